using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Integer fully connected layer, the conv's math on [N, in] codes (DESIGN.md §5):
/// <code>
///     acc[n, o] = bias_q[o] + Σ_k (w_q[o, k] − z_w[o]) · (x_q[n, k] − z_x)
///               = bias_q[o] − z_x·Σ_k (w_q[o, k] − z_w[o]) + Σ_k (w_q[o, k] − z_w[o]) · x_q[n, k]
///     y_q[n, o] = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[o], shift[o]), lo, hi)
/// </code>
/// The last sum runs, when the centered weights fit int8 and pair sums cannot saturate int16 (4-bit layers), as u8 × s8
/// <c>vpmaddubsw</c> (64 terms an instruction; <see cref="IntFullyConnectedWeights.Madd16Steps"/>) on panels of 64
/// outputs against blocks of 4 input rows (<see cref="IntFullyConnectedPanelTask"/>, AVX2 or AVX-512); else as
/// int16 × int16 <c>vpmaddwd</c> (32 terms an instruction, exact for any k ≤ 8), four outputs and four input rows
/// sharing each load (<see cref="IntFullyConnectedTask"/>, AVX-512). Tasks are (panel, run of row blocks) or (block of
/// outputs, block of rows), so results do not depend on threads.
/// </summary>
public static unsafe class IntFullyConnected
{
    internal const int OutputsPerTask = 64;

    /// <summary>Input rows a task takes together, so a weight row loaded once serves them all (see the task).</summary>
    internal const int RowsPerTask = 4;

    /// <summary>y_q[N, out] from x_q[N, in]; <paramref name="bias"/> may be empty.</summary>
    public static void Forward(int batch, ReadOnlySpan<byte> input, int inputZeroPoint, IntFullyConnectedWeights weights,
        ReadOnlySpan<int> bias, Requantization rq, Span<byte> output)
    {
        Check(batch, input, inputZeroPoint, weights, bias);
        if (output.Length != (long)batch * weights.OutFeatures)
            throw new ArgumentException($"IntFullyConnected: output has {output.Length} elements, expected {batch}·{weights.OutFeatures}.");
        rq.CheckChannels(weights.OutFeatures, "IntFullyConnected");
        fixed (byte* x = input)
        fixed (int* b = bias)
        fixed (byte* y = output)
            Core(batch, x, inputZeroPoint, weights, bias.IsEmpty ? null : b, rq, y, null);
    }

    /// <summary>The int32 accumulators (bias included) instead of codes.</summary>
    public static void ForwardAccumulators(int batch, ReadOnlySpan<byte> input, int inputZeroPoint, IntFullyConnectedWeights weights,
        ReadOnlySpan<int> bias, Span<int> accumulators)
    {
        Check(batch, input, inputZeroPoint, weights, bias);
        if (accumulators.Length != (long)batch * weights.OutFeatures)
            throw new ArgumentException($"IntFullyConnected: accumulators have {accumulators.Length} elements, expected {batch}·{weights.OutFeatures}.");
        fixed (byte* x = input)
        fixed (int* b = bias)
        fixed (int* acc = accumulators)
            Core(batch, x, inputZeroPoint, weights, bias.IsEmpty ? null : b, null, null, acc);
    }

    /// <summary>The formula as a loop (int64 sums, checked into int32): the reference of the kernel.</summary>
    public static void ReferenceAccumulators(int batch, ReadOnlySpan<byte> input, int inputZeroPoint, ReadOnlySpan<byte> weightCodes,
        ReadOnlySpan<int> weightZeroPoints, int outFeatures, ReadOnlySpan<int> bias, Span<int> accumulators)
    {
        int inFeatures = weightCodes.Length / outFeatures;
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outFeatures; o++)
            {
                int zw = weightZeroPoints.Length == 1 ? weightZeroPoints[0] : weightZeroPoints[o];
                long sum = bias.IsEmpty ? 0 : bias[o];
                for (int k = 0; k < inFeatures; k++)
                    sum += (long)(weightCodes[o * inFeatures + k] - zw) * (input[n * inFeatures + k] - inputZeroPoint);
                accumulators[n * outFeatures + o] = checked((int)sum);
            }
    }

    private static void Check(int batch, ReadOnlySpan<byte> input, int inputZeroPoint, IntFullyConnectedWeights weights, ReadOnlySpan<int> bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (input.Length != (long)batch * weights.InFeatures)
            throw new ArgumentException($"IntFullyConnected: input has {input.Length} elements, expected {batch}·{weights.InFeatures}.");
        if (!bias.IsEmpty && bias.Length != weights.OutFeatures)
            throw new ArgumentException($"IntFullyConnected: {bias.Length} biases for {weights.OutFeatures} outputs.");
        int xmax = (1 << weights.InputBits) - 1;
        if ((uint)inputZeroPoint > (uint)xmax)
            throw new ArgumentOutOfRangeException(nameof(inputZeroPoint), inputZeroPoint, $"IntFullyConnected: z_x must be in [0, {xmax}].");
        const int limit = int.MaxValue - (int)IntConv2dWeights.MaxDotMagnitude;
        foreach (int b in bias)
            if (b > limit || b < -limit)
                throw new ArgumentOutOfRangeException(nameof(bias), b, "IntFullyConnected: |bias_q| must be below 2^30.");
    }

    private static void Core(int batch, byte* x, int zx, IntFullyConnectedWeights w, int* bias, Requantization? rq, byte* y, int* accOut)
    {
        if (batch == 0) return;
        // int8 weights (4-bit layers) go by panels on AVX2 and AVX-512; 8-bit ones by int16 row blocks, which are
        // 512-bit only (AVX2 runs them through the reference).
        bool panels = Simd.IsVector && w.Madd16Steps > 0;
        if (!panels && !Simd.Is512)
        {
            Fallback(batch, x, zx, w, bias, rq, y, accOut);
            return;
        }
        int* offsets = IntScratch.Current.Get(IntScratch.Offsets, w.OutFeatures);
        var sums = w.CenteredSums;
        for (int o = 0; o < w.OutFeatures; o++) offsets[o] = unchecked((bias == null ? 0 : bias[o]) - zx * sums[o]);
        if (panels)
        {
            // Four tasks a thread at least (a panel's row blocks in runs), runs of at most 16 blocks (64 rows).
            const int panel = IntFullyConnectedMicroKernels.Panel;
            int panelCount = (w.OutFeatures + panel - 1) / panel;
            int rowBlocks4 = (batch + IntFullyConnectedPanelTask.Rows - 1) / IntFullyConnectedPanelTask.Rows;
            int want = 4 * ParallelRunner.MaxDegreeOfParallelism;
            int byThreads = (want + panelCount - 1) / panelCount, byLength = (rowBlocks4 + 15) / 16;
            int chunks = byThreads > byLength ? byThreads : byLength;
            if (chunks > rowBlocks4) chunks = rowBlocks4;
            var task = new IntFullyConnectedPanelTask { X = x, Y = y, AccOut = accOut, Offsets = offsets, W = w, Rq = rq, Batch = batch, Chunks = chunks };
            ParallelRunner.Run(panelCount * chunks, ref task);
            return;
        }
        int blocks = (w.OutFeatures + OutputsPerTask - 1) / OutputsPerTask, rowBlocks = (batch + RowsPerTask - 1) / RowsPerTask;
        var rowTask = new IntFullyConnectedTask { X = x, Y = y, AccOut = accOut, Offsets = offsets, W = w, Rq = rq, Batch = batch, RowBlocks = rowBlocks };
        ParallelRunner.Run(blocks * rowBlocks, ref rowTask);
    }

    /// <summary>Where no vector task runs: the reference loop, then the scalar requantization.</summary>
    private static void Fallback(int batch, byte* x, int zx, IntFullyConnectedWeights w, int* bias, Requantization? rq, byte* y, int* accOut)
    {
        int count = batch * w.OutFeatures;
        var acc = accOut != null ? new Span<int>(accOut, count) : new int[count];
        var b = bias == null ? ReadOnlySpan<int>.Empty : new ReadOnlySpan<int>(bias, w.OutFeatures);
        ReferenceAccumulators(batch, new ReadOnlySpan<byte>(x, batch * w.InFeatures), zx, w.Codes, w.ZeroPoints, w.OutFeatures, b, acc);
        if (rq is null) return;
        for (int i = 0; i < count; i++) y[i] = (byte)rq.Apply(acc[i], i % w.OutFeatures);
    }
}
