using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// Audit traces: the step-by-step integer computation of one output of a conv or an add, recomputed from the codes
/// and constants (not by the kernels), with a <c>ToString()</c> that reads as a worked example.
/// </summary>
public static class IntAudit
{
    /// <summary>The trace of output [n, o, oy, ox] of an integer conv given raw codes.</summary>
    public static ConvTrace Conv(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint, ReadOnlySpan<byte> weightCodes,
        ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> bias, Requantization rq, int n, int o, int oy, int ox)
    {
        if (input.Length != g.InputLength || weightCodes.Length != g.WeightLength)
            throw new ArgumentException($"IntAudit.Conv: {input.Length} input and {weightCodes.Length} weight codes do not fit {g}.");
        if ((uint)n >= (uint)g.Batch || (uint)o >= (uint)g.OutChannels || (uint)oy >= (uint)g.OutHeight || (uint)ox >= (uint)g.OutWidth)
            throw new ArgumentOutOfRangeException(nameof(n), $"IntAudit.Conv: output [{n}, {o}, {oy}, {ox}] is outside {g}.");
        int cinG = g.GroupInChannels, group = o / g.GroupOutChannels;
        int zw = weightZeroPoints.Length == 1 ? weightZeroPoints[0] : weightZeroPoints[o];
        int zx = inputZeroPoint;
        long sumWX = 0, sumW = 0, sumX = 0, direct = 0;
        int padded = 0;
        for (int c = 0; c < cinG; c++)
            for (int ky = 0; ky < g.KernelH; ky++)
                for (int kx = 0; kx < g.KernelW; kx++)
                {
                    int iy = oy * g.StrideH - g.PadH + ky * g.DilationH, ix = ox * g.StrideW - g.PadW + kx * g.DilationW;
                    int x;
                    if ((uint)iy < (uint)g.Height && (uint)ix < (uint)g.Width)
                        x = input[((n * g.InChannels + group * cinG + c) * g.Height + iy) * g.Width + ix];
                    else
                    {
                        x = zx;
                        padded++;
                    }
                    int w = weightCodes[((o * cinG + c) * g.KernelH + ky) * g.KernelW + kx];
                    sumWX += (long)w * x;
                    sumW += w;
                    sumX += x;
                    direct += (long)(w - zw) * (x - zx);
                }
        int k = g.PatchSize;
        long zxSumW = zx * sumW, zwSumX = zw * sumX, kzz = (long)k * zw * zx;
        long dot = sumWX - zxSumW - zwSumX + kzz;
        if (dot != direct) throw new InvalidOperationException($"IntAudit.Conv: expansion {dot} ≠ direct sum {direct} (a bug in the trace).");
        int b = bias.IsEmpty ? 0 : bias[o];
        long acc = dot + b;
        if (acc is < int.MinValue or > int.MaxValue)
            throw new OverflowException($"IntAudit.Conv: accumulator {acc} of output [{n}, {o}, {oy}, {ox}] does not fit int32.");
        var step = FixedPointTrace.Of((int)acc, rq.Multiplier(o), rq.Shift(o), rq.Rounding);
        int pre = rq.OutputZeroPoint + step.Result;
        int y = pre < rq.ClampMin ? rq.ClampMin : pre > rq.ClampMax ? rq.ClampMax : pre;
        return new ConvTrace(n, o, oy, ox, k, padded, sumWX, sumW, sumX, zx, zw, zxSumW, zwSumX, kzz, dot, b, (int)acc,
            step, rq.OutputZeroPoint, pre, rq.ClampMin, rq.ClampMax, y);
    }

    /// <summary>The trace of output [n, o, oy, ox] of a conv with packed weights (their codes and zero points).</summary>
    public static ConvTrace Conv(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint, IntConv2dWeights weights,
        ReadOnlySpan<int> bias, Requantization rq, int n, int o, int oy, int ox) =>
        Conv(g, input, inputZeroPoint, weights.Codes, weights.ZeroPoints, bias, rq, n, o, oy, ox);

    /// <summary>The trace of one quantized add of codes <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static AddTrace Add(int a, int b, QuantizedAddParams p)
    {
        int sa = (a - p.ZeroPointA) << p.LeftShift, sb = (b - p.ZeroPointB) << p.LeftShift;
        var ra = FixedPointTrace.Of(sa, p.MultiplierA, p.ShiftA);
        var rb = FixedPointTrace.Of(sb, p.MultiplierB, p.ShiftB);
        int sum = ra.Result + rb.Result;
        var ry = FixedPointTrace.Of(sum, p.OutputMultiplier, p.OutputShift);
        int pre = p.OutputZeroPoint + ry.Result;
        int y = pre < p.ClampMin ? p.ClampMin : pre > p.ClampMax ? p.ClampMax : pre;
        return new AddTrace(a, p.ZeroPointA, sa, ra, b, p.ZeroPointB, sb, rb, p.LeftShift, sum, ry, p.OutputZeroPoint, pre,
            p.ClampMin, p.ClampMax, y);
    }
}
