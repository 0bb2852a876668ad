using Nanoq.Quant.Modules;

namespace Nanoq.Quant.Convert;

/// <summary>
/// A fine-tuned <see cref="QConvBn"/> (conv → [BN] → act → output quantizer) to an <see cref="IntConvSpec"/> — the
/// offline half of gemmlowp's split, float allowed:
/// <list type="number">
/// <item>(W_fold, b_fold) = <see cref="QConvBn.Folded"/>: BN folded with the running statistics (eq. 13–14), what the
/// eval-mode fake-quant forward computes with.</item>
/// <item>weight parameters (Δ_w[c], z_w[c]) from the layer's weight quantizer on W_fold (eq. 9–10, per channel or per
/// tensor), and the codes w_q of exactly those weights (<see cref="WeightCodes"/>).</item>
/// <item>input (Δ_x, z_x): the producer's output quantizer, supplied by the caller who walks the network; output
/// (Δ_y, z_y): this layer's own output quantizer.</item>
/// <item>bias_q[c] = round(b_fold[c] / (Δ_w[c]·Δ_x)) and M[c] = Δ_w[c]·Δ_x / Δ_y as (M0[c], shift[c])
/// (<see cref="QuantizedMultiplier"/>); the activation as the clamp (<see cref="ActivationClamp"/>).</item>
/// </list>
/// The bias's rounding error is at most ½·Δ_w[c]·Δ_x, i.e. ½·M[c] output steps (M is far below 1 in practice), and
/// M0's relative error is ≤ 2^−30: both vanish next to the output's own rounding, which is why the integer codes agree
/// with the fake-quant codes except at near-ties.
/// Only the affine scheme converts; DoReFa's half-integer zero point and XNOR's signs have no integer runtime here.
/// </summary>
public static class ConvConverter
{
    public static IntConvSpec Convert(string name, QConvBn layer, QParams input)
    {
        var wq = layer.WeightQuantizer;
        if (wq.Scheme != QuantScheme.Affine)
            throw new NotSupportedException($"{name}: {wq.Scheme} weights have no integer runtime (only the affine scheme converts).");
        if (!wq.Enabled) throw new InvalidOperationException($"{name}: the weight quantizer is switched off (a model mid-calibration?).");
        var outQ = layer.OutputQuantizer
                   ?? throw new InvalidOperationException($"{name}: the conv unit has no output quantizer, so its output codes are undefined.");
        if (outQ.Scheme != QuantScheme.Affine)
            throw new NotSupportedException($"{name}: {outQ.Scheme} activations have no integer runtime (only the affine scheme converts).");
        var output = outQ.Current ?? throw new InvalidOperationException($"{name}: the output quantizer is not calibrated.");
        var conv = layer.Conv;
        if (conv.InChannels % conv.Groups != 0) throw new ArgumentException($"{name}: {conv.InChannels} input channels in {conv.Groups} groups.");

        var (w, b) = layer.Folded();
        try
        {
            int cout = conv.OutChannels;
            var info = wq.Describe(w);
            float[] scales;
            int[] zeroPoints;
            byte[] codes;
            if (info.PerChannel)
            {
                var cq = info.ToChannelQParams();
                codes = WeightCodes.Quantize(w, cq);
                scales = cq.Scales.ToArray();
                zeroPoints = cq.ZeroPoints.ToArray();
            }
            else
            {
                var q = info.ToQParams();
                codes = WeightCodes.Quantize(w, q);
                scales = Enumerable.Repeat(q.Scale, cout).ToArray();
                zeroPoints = Enumerable.Repeat(q.ZeroPoint, cout).ToArray();
            }
            var bias = QuantizedMultiplier.QuantizeBias(b.Span, scales, input.Scale);
            var m = QuantizedMultiplier.ForConv(scales, input.Scale, output.Scale);
            var (lo, hi) = ActivationClamp.For(layer.Activation, output);
            var spec = new IntConvSpec(name, conv.InChannels, cout, conv.Kernel, conv.Stride, conv.Padding, conv.Dilation, conv.Groups,
                info.Bits, codes, zeroPoints, scales, bias, m.Select(x => x.Multiplier).ToArray(), m.Select(x => x.Shift).ToArray(),
                input, output, layer.Activation, lo, hi);
            CheckRange(spec);
            return spec;
        }
        finally
        {
            w.Dispose();
            b.Dispose();
        }
    }

    /// <summary>
    /// The int32 accumulator must hold bias + dot, and MultiplyByQuantizedMultiplier's left shift (M &gt; 1) must not
    /// overflow: bound_c = K·max|w_q − z_w[c]|·max(z_x, 2^k − 1 − z_x) + |bias_q[c]|, with bound_c·2^max(shift, 0) &lt; 2^31.
    /// The kernels also require |bias_q| &lt; 2^30 and the dot's worst case ≤ 2^30 (checked again when packing).
    /// </summary>
    private static void CheckRange(IntConvSpec s)
    {
        int k = s.PatchSize;
        long xSpan = Math.Max(s.Input.ZeroPoint, s.Input.QMax - s.Input.ZeroPoint);
        for (int c = 0; c < s.OutChannels; c++)
        {
            int maxAbs = 0;
            for (int i = c * k; i < (c + 1) * k; i++) maxAbs = Math.Max(maxAbs, Math.Abs(s.WeightCodes[i] - s.WeightZeroPoints[c]));
            if (Math.Abs((long)s.Bias[c]) >= 1L << 30)
                throw new OverflowException($"{s.Name}: bias_q[{c}] = {s.Bias[c]} (b / (Δ_w·Δ_x)) leaves no room in int32 for the dot product; the weights' or input's range is degenerate.");
            long bound = (long)k * maxAbs * xSpan + Math.Abs((long)s.Bias[c]);
            if (bound << Math.Max(0, s.Shifts[c]) >= 1L << 31)
                throw new OverflowException($"{s.Name}: channel {c}'s accumulator (up to {bound}) times 2^{s.Shifts[c]} (M = {s.WeightScales[c] * s.Input.Scale / s.Output.Scale:G4}) could overflow int32.");
        }
    }
}
