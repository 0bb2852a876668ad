using Nanoq.Kernels.Integer;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Integer;

namespace Nanoq.Quant.Convert;

/// <summary>
/// A fine-tuned <see cref="LinearUnit"/> to an <see cref="IntLinearLayer"/>, as <see cref="ConvConverter"/> does a conv:
/// weight codes on the weight quantizer's grid (per output feature), bias_q[o] = round(b[o] / (Δ_w[o]·Δ_x)),
/// M[o] = Δ_w[o]·Δ_x / Δ_y as (M0, shift), the activation as the clamp.
/// </summary>
public static class LinearConverter
{
    public static IntLinearLayer Convert(string name, LinearUnit unit, QParams input, RequantRounding rounding)
    {
        var info = ConvConverter.WeightGrid(name, unit);
        var output = ConvConverter.OutputGrid(name, unit);
        var weight = unit.Linear.Weight.Value;
        int outF = weight.Shape[0], inF = weight.Shape[1];
        float[] scales;
        int[] zeroPoints;
        byte[] codes;
        if (info.PerChannel)
        {
            var cq = info.ToChannelQParams();
            codes = WeightCodes.Quantize(weight, cq);
            (scales, zeroPoints) = (cq.Scales.ToArray(), cq.ZeroPoints.ToArray());
        }
        else
        {
            var q = info.ToQParams();
            codes = WeightCodes.Quantize(weight, q);
            (scales, zeroPoints) = (Enumerable.Repeat(q.Scale, outF).ToArray(), Enumerable.Repeat(q.ZeroPoint, outF).ToArray());
        }
        var bias = unit.Linear.Bias is null ? new int[outF] : QuantizedMultiplier.QuantizeBias(unit.Linear.Bias.Value.Span, scales, input.Scale);
        var m = QuantizedMultiplier.ForConv(scales, input.Scale, output.Scale);
        var (lo, hi) = ActivationClamp.For(unit.Activation, output);
        var rq = new Requantization(m.Select(x => x.Multiplier).ToArray(), m.Select(x => x.Shift).ToArray(), output.ZeroPoint, lo, hi, rounding);
        return new IntLinearLayer(name, inF, outF, codes, zeroPoints, info.Bits, input.ZeroPoint, input.Bits, bias, rq);
    }
}
