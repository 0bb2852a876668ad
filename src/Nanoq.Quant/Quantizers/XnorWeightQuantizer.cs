using Nanoq.Autograd;

namespace Nanoq.Quant.Quantizers;

/// <summary>XNOR-Net's binary weights α_c·sign(W_c), α_c = mean |W_c| per output channel (Rastegari et al. 2016, §3.1): <see cref="QFn.XnorWeight"/>.</summary>
public sealed class XnorWeightQuantizer() : FakeQuantizer(1, QuantizerRole.Weight)
{
    private float[] _alpha = [];

    public override string Method => "xnor";

    protected override Var Quantize(Var w)
    {
        _alpha = QFn.XnorScales(w.Value);
        return QFn.XnorWeight(w);
    }

    public override QuantizerInfo Describe() =>
        new(Name, Role, Method, 1, true, 0, _alpha, [], _alpha.Select(v => -v).ToArray(), _alpha, _alpha.Length > 0);
}
