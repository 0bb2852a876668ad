using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// RoIAlign on codes (DESIGN.md §5): every output is a convex combination of input codes, so it stays on the input's
/// grid — same Δ and z, no requantization. With the taps of an <see cref="IntRoiAlignPlan"/> (weights W in Q22,
/// Σ W ≤ 2^22, the rest being off-map samples that count as real 0, i.e. code z):
/// <code>
///   acc = Σ_taps W · (q[b, ch, p] − z)                   int32: |q − z| ≤ 255 (byte codes), Σ W ≤ 2^22
///   y   = z + RoundHalfToEven(acc / 2^22)
/// </code>
/// Rounding is half to even on the value relative to the zero point — the same rule as the fake-quant model's
/// round(y_float / Δ) + z (<see cref="RoiAlignOnGrid.RoundToGrid"/>), so both land on the same code except where float
/// noise and the weights' fixed-point error straddle a rounding boundary (measured in the tests). Because the weights
/// are non-negative and sum to at most one, y lies within [min, max] of the codes it reads and z (z only counts
/// where a sampling point fell off the map): no clamp is needed. Integers only; RoIs run in parallel
/// (<see cref="IntRoiAlignTask"/>, one RoI a task, each writing its own output row), over channels 16 lanes at a time
/// on a channels-last copy of the codes.
/// <code>
///   codes: [n, c, H, W] bytes  →  output: [K, c, PH, PW] bytes
/// </code>
/// </summary>
public static unsafe class IntRoiAlign
{
    /// <summary>codes: [n, c, H, W] → output: [K, c, PH, PW], RoI k in row k.</summary>
    public static void Forward(IntRoiAlignPlan plan, ReadOnlySpan<byte> codes, int batch, int channels, int zeroPoint, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(plan);
        int bins = plan.PooledH * plan.PooledW;
        if (output.Length != (long)plan.NumRois * channels * bins)
            throw new ArgumentException($"IntRoiAlign: output has {output.Length} codes, [{plan.NumRois}, {channels}, {plan.PooledH}, {plan.PooledW}] needs {(long)plan.NumRois * channels * bins}.");
        Forward(plan, codes, batch, channels, zeroPoint, output, default);
    }

    /// <summary>
    /// As <see cref="Forward(IntRoiAlignPlan, ReadOnlySpan{byte}, int, int, int, Span{byte})"/>, writing RoI k to row
    /// <paramref name="outputRows"/>[k] of an output of any number of [c, PH, PW] rows (empty: row k): one level's RoIs of
    /// a multi-scale RoIAlign scattered into the batch's result.
    /// </summary>
    public static void Forward(IntRoiAlignPlan plan, ReadOnlySpan<byte> codes, int batch, int channels, int zeroPoint, Span<byte> output,
                               ReadOnlySpan<int> outputRows)
    {
        fixed (byte* po = output)
            Run(plan, codes, batch, channels, zeroPoint, new Epilogue(po, null, null, null), output.Length, outputRows);
    }

    /// <summary>
    /// The accumulators before rounding: acc = Σ_taps W · (q − z), a real value of acc · Δ / 2^22 (W in Q22), into
    /// <paramref name="accumulators"/> row <paramref name="outputRows"/>[k] (empty: row k). For a RoIAlign whose output goes
    /// onto another grid (Δ_y, z_y): y = z_y + round(acc · Δ / (Δ_y · 2^22)) is one rounding, as the fake-quant model's
    /// quantizer applied to the float RoIAlign (<c>IntRoiAlignOp</c> in Nanoq.Quant). |acc| ≤ 255 · 2^22 &lt; 2^31.
    /// </summary>
    public static void Accumulate(IntRoiAlignPlan plan, ReadOnlySpan<byte> codes, int batch, int channels, int zeroPoint, Span<int> accumulators,
                                  ReadOnlySpan<int> outputRows)
    {
        fixed (int* pa = accumulators)
            Run(plan, codes, batch, channels, zeroPoint, new Epilogue(null, pa, null, null), accumulators.Length, outputRows);
    }

    /// <summary>
    /// The accumulators of <see cref="Accumulate"/> put onto another grid (Δ_y, z_y) in one rounding,
    /// y = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M), lo, hi) with <paramref name="requant"/>'s per-tensor
    /// M = Δ / (Δ_y · 2^22), into row <paramref name="outputRows"/>[k] (empty: row k): the multi-scale RoIAlign's level
    /// l onto the pooled features' grid (<c>IntRoiAlignOp</c>). 16 channels at a time, bit-identical to
    /// <c>requant.Apply(acc, 0)</c> on each accumulator.
    /// </summary>
    public static void Requantize(IntRoiAlignPlan plan, ReadOnlySpan<byte> codes, int batch, int channels, int zeroPoint, Requantization requant,
                                  Span<byte> output, ReadOnlySpan<int> outputRows)
    {
        ArgumentNullException.ThrowIfNull(requant);
        if (requant.Channels != 1) throw new ArgumentException("IntRoiAlign: the requantization must be per tensor.");
        fixed (byte* po = output)
            Run(plan, codes, batch, channels, zeroPoint, new Epilogue(null, null, po, requant), output.Length, outputRows);
    }

    /// <summary>Where <see cref="IntRoiAlignTask"/> writes: exactly one of the three is set.</summary>
    private readonly struct Epilogue(byte* output, int* accumulators, byte* requantized, Requantization? requant)
    {
        public readonly byte* Output = output, Requantized = requantized;
        public readonly int* Accumulators = accumulators;
        public readonly Requantization? Requant = requant;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(IntRoiAlignPlan plan, ReadOnlySpan<byte> codes, int batch, int channels, int zeroPoint, Epilogue epilogue,
                            int outputLength, ReadOnlySpan<int> outputRows)
    {
        ArgumentNullException.ThrowIfNull(plan);
        int plane = plan.Height * plan.Width, bins = plan.PooledH * plan.PooledW;
        if (batch < 0 || channels < 0 || codes.Length != (long)batch * channels * plane)
            throw new ArgumentException($"IntRoiAlign: {codes.Length} codes for [{batch}, {channels}, {plan.Height}, {plan.Width}].");
        int rowSize = channels * bins;
        if (rowSize > 0 && outputLength % rowSize != 0)
            throw new ArgumentException($"IntRoiAlign: output of {outputLength} values is not whole rows of [{channels}, {plan.PooledH}, {plan.PooledW}].");
        int rows = rowSize == 0 ? 0 : outputLength / rowSize;
        if (!outputRows.IsEmpty && outputRows.Length != plan.NumRois)
            throw new ArgumentException($"IntRoiAlign: {plan.NumRois} RoIs but {outputRows.Length} output rows.");
        if ((uint)zeroPoint > 255) throw new ArgumentException($"IntRoiAlign: zero point {zeroPoint} is not a byte code.");
        if (plan.NumRois == 0 || rowSize == 0) return;
        // Every RoI writes its own row (tasks run in parallel): rows in range and distinct.
        var written = new bool[rows];
        for (int k = 0; k < plan.NumRois; k++)
        {
            if ((uint)plan.Batch[k] >= (uint)batch) throw new ArgumentException($"IntRoiAlign: RoI {k} reads image {plan.Batch[k]} of a batch of {batch}.");
            int row = outputRows.IsEmpty ? k : outputRows[k];
            if ((uint)row >= (uint)rows || written[row]) throw new ArgumentException($"IntRoiAlign: RoI {k} writes row {row} of {rows} (rows must be distinct).");
            written[row] = true;
        }
        var channelsLast = System.Buffers.ArrayPool<byte>.Shared.Rent(codes.Length);
        try
        {
            ToChannelsLast(codes, batch, channels, plane, channelsLast);
            fixed (byte* pc = channelsLast)
            fixed (int* pb = plan.Batch, ps = plan.TapStart, pi = plan.TapIndex, pw = plan.TapWeight, pr = outputRows)
            {
                var task = new IntRoiAlignTask
                {
                    Codes = pc, Output = epilogue.Output, Accumulators = epilogue.Accumulators, Requantized = epilogue.Requantized,
                    Requant = epilogue.Requant, Batch = pb, TapStart = ps, TapIndex = pi, TapWeight = pw,
                    OutputRows = outputRows.IsEmpty ? null : pr, Channels = channels, Plane = plane, Bins = bins, ZeroPoint = zeroPoint,
                };
                ParallelRunner.Run(plan.NumRois, ref task);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(channelsLast);
        }
    }

    /// <summary>[n, c, plane] → [n, plane, c]: a tap then reads its c codes contiguously. 16 channels × 16 pixels a block
    /// (<see cref="ByteTranspose"/>), then the remaining channels four a pass, so each pixel's destination is written
    /// four bytes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToChannelsLast(ReadOnlySpan<byte> codes, int batch, int channels, int plane, byte[] result)
    {
        fixed (byte* x = codes)
        fixed (byte* y = result)
            for (int b = 0; b < batch; b++)
            {
                byte* src = x + (long)b * channels * plane, dst = y + (long)b * channels * plane;
                int ch = 0;
                for (; System.Runtime.Intrinsics.X86.Sse2.IsSupported && ch + 16 <= channels; ch += 16)
                {
                    int p = 0;
                    for (; p + 16 <= plane; p += 16)
                        ByteTranspose.Transpose16x16(src + (long)ch * plane + p, plane, dst + (long)p * channels + ch, channels);
                    for (; p < plane; p++)
                        for (int i = 0; i < 16; i++) dst[(long)p * channels + ch + i] = src[(long)(ch + i) * plane + p];
                }
                for (; ch + 4 <= channels; ch += 4)
                {
                    byte* r0 = src + (long)ch * plane, r1 = r0 + plane, r2 = r1 + plane, r3 = r2 + plane;
                    for (int p = 0; p < plane; p++)
                        Unsafe.WriteUnaligned(dst + (long)p * channels + ch, r0[p] | r1[p] << 8 | r2[p] << 16 | r3[p] << 24);
                }
                for (; ch < channels; ch++)
                {
                    byte* r = src + (long)ch * plane;
                    for (int p = 0; p < plane; p++) dst[(long)p * channels + ch] = r[p];
                }
            }
    }
}
