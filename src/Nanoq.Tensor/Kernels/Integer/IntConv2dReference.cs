using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The integer conv written as the formula, one output at a time (the ground truth the fast kernels are tested
/// against, and the fallback where no vector level runs, <see cref="SimdLevel.Portable"/>):
/// <code>
///     acc[n, o, oy, ox] = bias_q[o] + Σ_{c, ky, kx} (w_q[o, c, ky, kx] − z_w[o]) · (x_q[n, g·C_in/groups + c, iy, ix] − z_x)
///     iy = oy·stride_h − pad_h + ky·dil_h,  ix = ox·stride_w − pad_w + kx·dil_w,   x_q = z_x outside the image
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[o], shift[o]), lo, hi)
/// </code>
/// Sums run in int64 and must fit int32 at the end (else <see cref="OverflowException"/>), so this reference also shows
/// when a layer needs wider accumulators.
/// </summary>
public static class IntConv2dReference
{
    /// <summary>acc for every output (bias included; <paramref name="bias"/> may be empty).</summary>
    public static void Accumulators(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint,
        ReadOnlySpan<byte> weightCodes, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> bias, Span<int> acc)
    {
        CheckArguments(g, input, weightCodes, weightZeroPoints, bias);
        g.CheckLength("accumulators", acc.Length, g.OutputLength);
        int plane = g.OutputPlane;
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                        acc[(n * g.OutChannels + o) * plane + oy * g.OutWidth + ox] =
                            One(g, input, inputZeroPoint, weightCodes, weightZeroPoints, bias, n, o, oy, ox);
    }

    /// <summary>y_q for every output.</summary>
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint,
        ReadOnlySpan<byte> weightCodes, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> bias, Requantization rq, Span<byte> output)
    {
        CheckArguments(g, input, weightCodes, weightZeroPoints, bias);
        g.CheckLength("output", output.Length, g.OutputLength);
        rq.CheckChannels(g.OutChannels, "IntConv2dReference");
        int plane = g.OutputPlane;
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                        output[(n * g.OutChannels + o) * plane + oy * g.OutWidth + ox] =
                            (byte)rq.Apply(One(g, input, inputZeroPoint, weightCodes, weightZeroPoints, bias, n, o, oy, ox), o);
    }

    /// <summary>acc of the one output [n, o, oy, ox].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int One(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint,
        ReadOnlySpan<byte> weightCodes, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> bias, int n, int o, int oy, int ox)
    {
        int cinG = g.GroupInChannels, group = o / g.GroupOutChannels;
        int zw = weightZeroPoints.Length == 1 ? weightZeroPoints[0] : weightZeroPoints[o];
        long sum = bias.IsEmpty ? 0 : bias[o];
        for (int c = 0; c < cinG; c++)
        {
            int ci = group * cinG + c;
            for (int ky = 0; ky < g.KernelH; ky++)
            {
                int iy = oy * g.StrideH - g.PadH + ky * g.DilationH;
                for (int kx = 0; kx < g.KernelW; kx++)
                {
                    int ix = ox * g.StrideW - g.PadW + kx * g.DilationW;
                    int xq = (uint)iy < (uint)g.Height && (uint)ix < (uint)g.Width
                        ? input[((n * g.InChannels + ci) * g.Height + iy) * g.Width + ix]
                        : inputZeroPoint;
                    int wq = weightCodes[((o * cinG + c) * g.KernelH + ky) * g.KernelW + kx];
                    sum += (long)(wq - zw) * (xq - inputZeroPoint);
                }
            }
        }
        if (sum is < int.MinValue or > int.MaxValue)
            throw new OverflowException($"IntConv2dReference: accumulator {sum} of output [{n}, {o}, {oy}, {ox}] does not fit int32.");
        return (int)sum;
    }

    private static void CheckArguments(in Conv2dGeometry g, ReadOnlySpan<byte> input, ReadOnlySpan<byte> weightCodes,
        ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> bias)
    {
        g.CheckLength("input", input.Length, g.InputLength);
        g.CheckLength("weight", weightCodes.Length, g.WeightLength);
        if (weightZeroPoints.Length != 1) g.CheckLength("weight zero points", weightZeroPoints.Length, g.OutChannels);
        if (!bias.IsEmpty) g.CheckLength("bias", bias.Length, g.OutChannels);
    }
}
