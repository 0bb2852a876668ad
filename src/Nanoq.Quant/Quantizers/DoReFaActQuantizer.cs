using Nanoq.Autograd;

namespace Nanoq.Quant.Quantizers;

/// <summary>DoReFa-Net's activations: clipped to [0, 1], then k-bit uniform (affine with Δ = 1/(2^k − 1), z = 0); no calibration.</summary>
public sealed class DoReFaActQuantizer(int bits) : FakeQuantizer(bits, QuantizerRole.Activation)
{
    public override string Method => "dorefa";

    public QParams Grid => QFn.DoReFaActivationQParams(Bits);

    protected override Var Quantize(Var x) => QFn.FakeQuantize(x, Grid);

    public override QuantizerInfo Describe() => QuantizerInfo.Of(Name, Role, Method, Grid);
}
