using Nanoq.Nn.Taps;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Quant.Convert;

/// <summary>
/// A fine-tuned <see cref="ConvUnit"/> (conv → [BN] → act → output quantizer, computed by <see cref="FoldedConv"/>) to
/// an <see cref="IntConvSpec"/> — the offline half of gemmlowp's split, float allowed:
/// <list type="number">
/// <item>(W_fold, b_fold) = <see cref="FoldedConv.Folded"/>: BN folded with the running statistics (eq. 13–14), what the
/// eval-mode fake-quant forward computes with.</item>
/// <item>weight grid (Δ_w[c], z_w[c]) as the unit's weight quantizer holds it (<see cref="FakeQuantizer.Describe"/>:
/// after an evaluation-mode forward, the min/max grid of W_fold per channel or per tensor, eq. 9–10, or LSQ's learned
/// steps — read, never re-derived here), and the codes w_q of W_fold on that grid (<see cref="WeightCodes"/>).</item>
/// <item>input (Δ_x, z_x): the producer's output quantizer, supplied by the caller who walks the network; output
/// (Δ_y, z_y): this layer's own output quantizer.</item>
/// <item>bias_q[c] = round(b_fold[c] / (Δ_w[c]·Δ_x)) and M[c] = Δ_w[c]·Δ_x / Δ_y as (M0[c], shift[c])
/// (<see cref="QuantizedMultiplier"/>); the activation as the clamp (<see cref="ActivationClamp"/>).</item>
/// </list>
/// The bias's rounding error is at most ½·Δ_w[c]·Δ_x, i.e. ½·M[c] output steps (M is far below 1 in practice), and
/// M0's relative error is ≤ 2^−30: both vanish next to the output's own rounding, which is why the integer codes agree
/// with the fake-quant codes except at near-ties.
/// Only affine grids with integer zero points convert (FQN's, LSQ's); DoReFa's half-integer zero point and XNOR's signs
/// have no integer runtime here.
/// </summary>
public static class ConvConverter
{
    public static IntConvSpec Convert(string name, ConvUnit unit, QParams input)
    {
        if (unit.Implementation is not FoldedConv)
            throw new InvalidOperationException($"{name}: the conv unit is not quantized (ModelQuantizer.Install, calibrate, then convert).");
        var info = WeightGrid(name, unit);
        var output = OutputGrid(name, unit);
        var conv = unit.Conv;
        if (conv.InChannels % conv.Groups != 0) throw new ArgumentException($"{name}: {conv.InChannels} input channels in {conv.Groups} groups.");

        var (w, b) = FoldedConv.Folded(unit);
        try
        {
            int cout = conv.OutChannels;
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
            var (lo, hi) = ActivationClamp.For(unit.Activation, output);
            var spec = new IntConvSpec(name, conv.InChannels, cout, conv.Kernel, conv.Stride, conv.Padding, conv.Dilation, conv.Groups,
                info.Bits, codes, zeroPoints, scales, bias, m.Select(x => x.Multiplier).ToArray(), m.Select(x => x.Shift).ToArray(),
                input, output, unit.Activation, lo, hi);
            CheckRange(spec);
            return spec;
        }
        finally
        {
            w.Dispose();
            b.Dispose();
        }
    }

    /// <summary>The weight quantizer's grid (affine, set by a forward); throws naming the layer otherwise.</summary>
    internal static QuantizerInfo WeightGrid(string name, WeightedTap unit)
    {
        if (unit.WeightQuantizer is not FakeQuantizer wq)
            throw new InvalidOperationException($"{name}: the layer has no weight quantizer (ModelQuantizer.Install first).");
        if (!wq.ConvertsToInteger)
            throw new NotSupportedException($"{name}: {wq.Method} weights have no integer runtime (only affine grids with integer zero points convert).");
        if (!wq.Enabled) throw new InvalidOperationException($"{name}: the weight quantizer is switched off (a model mid-calibration?).");
        var info = wq.Describe();
        if (!info.Calibrated) throw new InvalidOperationException($"{name}: the weight quantizer has no grid yet (run an evaluation-mode forward first).");
        return info;
    }

    /// <summary>A tap's output grid (affine, calibrated); throws naming the tap otherwise.</summary>
    internal static QParams OutputGrid(string name, Tap tap)
    {
        if (tap.OutputQuantizer is not FakeQuantizer q)
            throw new InvalidOperationException($"{name}: no output quantizer, so its output codes are undefined.");
        if (!q.ConvertsToInteger)
            throw new NotSupportedException($"{name}: {q.Method} activations have no integer runtime (only affine grids with integer zero points convert).");
        var info = q.Describe();
        if (!info.Calibrated) throw new InvalidOperationException($"{name}: the output quantizer is not calibrated.");
        return info.ToQParams();
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
