using System.Numerics.Tensors;
using Nanoq.Autograd;

namespace Nanoq.Quant.Quantizers;

/// <summary>
/// DoReFa-Net's k-bit weights (Zhou et al. 2016, eq. 9 of that paper, scaled back to the layer's range s = max|W| so the
/// folded BN keeps its meaning): <see cref="QFn.DoReFaWeight"/>. Per tensor. Its grid has the half-integer zero point
/// (2^k − 1)/2, so it has no integer runtime here (<see cref="Describe"/> reports Δ = 2s/(2^k − 1) on [−s, s]).
/// </summary>
public sealed class DoReFaWeightQuantizer(int bits) : FakeQuantizer(bits, QuantizerRole.Weight)
{
    private float _s;

    public override string Method => "dorefa";

    protected override Var Quantize(Var w)
    {
        _s = MathF.Abs(TensorPrimitives.MaxMagnitude(w.Value.Span));
        return QFn.DoReFaWeight(w, Bits);
    }

    public override QuantizerInfo Describe() =>
        new(Name, Role, Method, Bits, false, -1, [2f * _s / ((1 << Bits) - 1)], [], [-_s], [_s], _s > 0f);
}
