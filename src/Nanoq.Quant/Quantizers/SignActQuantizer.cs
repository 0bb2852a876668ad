using Nanoq.Autograd;

namespace Nanoq.Quant.Quantizers;

/// <summary>
/// XNOR-Net's sign activations (§3.2): ±1 with the straight-through gradient clipped to |x| ≤ 1 (<see cref="QFn.SignSte"/>).
/// A conv unit whose output is this skips its ReLU (XNOR's block is BN → sign → conv: a ReLU before the sign would make
/// every sign +1).
/// </summary>
public sealed class SignActQuantizer() : FakeQuantizer(1, QuantizerRole.Activation)
{
    public override string Method => "xnor";

    public override bool ReplacesActivation => true;

    protected override Var Quantize(Var x) => QFn.SignSte(x);

    public override QuantizerInfo Describe() => new(Name, Role, Method, 1, false, -1, [1f], [], [-1f], [1f], true);
}
