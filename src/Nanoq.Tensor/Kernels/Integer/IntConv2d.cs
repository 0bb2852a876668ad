using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Integer 2-D convolution over NCHW codes (DESIGN.md §5, geometry: <see cref="Conv2dGeometry"/>):
/// <code>
///     acc = bias_q[o] + Σ (w_q − z_w[o]) · (x_q − z_x)                     (int32; x_q = z_x in the padding)
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[o], shift[o]), lo, hi)
/// </code>
/// with any stride, padding, dilation and groups; depthwise geometries run a direct kernel. The inner product is
/// chosen when the weights are packed (<see cref="IntConv2dWeights"/>, <see cref="IntConvPath"/>); every path gives the
/// accumulators of <see cref="IntConv2dReference"/> bit for bit. Work is split over
/// <see cref="ParallelRunner.MaxDegreeOfParallelism"/> cores by (image, group, position range), never along the
/// sum, so results do not depend on the thread count. Scratch is per thread and reused: steady state allocates nothing.
/// </summary>
public static unsafe class IntConv2d
{
    /// <summary>Tiles of 64 positions per task: small enough to balance two cores, large enough to amortise a hand-off.</summary>
    private const int TilesPerTask = 4;

    /// <summary>Interleaved input units per chunk of images (1 MiB: about the L2 of a core).</summary>
    private const long ChunkUnits = 1 << 18;

    /// <summary>
    /// y_q[N, C_out, OH, OW] from x_q[N, C_in, H, W] (codes ≤ 2^k_x − 1 with zero point <paramref name="inputZeroPoint"/>).
    /// <paramref name="bias"/> (int32 per output channel, Δ_w[c]·Δ_x units) may be empty. <paramref name="output"/> is overwritten.
    /// </summary>
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint, IntConv2dWeights weights,
        ReadOnlySpan<int> bias, Requantization rq, Span<byte> output)
    {
        Check(g, input, inputZeroPoint, weights, bias);
        g.CheckLength("output", output.Length, g.OutputLength);
        rq.CheckChannels(g.OutChannels, "IntConv2d");
        if (weights.Path == IntConvPath.Reference)
        {
            IntConv2dReference.Forward(g, input, inputZeroPoint, weights.Codes, weights.ZeroPoints, bias, rq, output);
            return;
        }
        fixed (byte* x = input)
        fixed (int* b = bias)
        fixed (byte* y = output)
            Core(g, x, inputZeroPoint, weights, bias.IsEmpty ? null : b, rq, y, null);
    }

    /// <summary>The int32 accumulators acc (bias included) instead of codes: the integer result before requantization.</summary>
    public static void ForwardAccumulators(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint, IntConv2dWeights weights,
        ReadOnlySpan<int> bias, Span<int> accumulators)
    {
        Check(g, input, inputZeroPoint, weights, bias);
        g.CheckLength("accumulators", accumulators.Length, g.OutputLength);
        if (weights.Path == IntConvPath.Reference)
        {
            IntConv2dReference.Accumulators(g, input, inputZeroPoint, weights.Codes, weights.ZeroPoints, bias, accumulators);
            return;
        }
        fixed (byte* x = input)
        fixed (int* b = bias)
        fixed (int* acc = accumulators)
            Core(g, x, inputZeroPoint, weights, bias.IsEmpty ? null : b, null, null, acc);
    }

    private static void Check(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint, IntConv2dWeights weights, ReadOnlySpan<int> bias)
    {
        weights.CheckGeometry(g);
        g.CheckLength("input", input.Length, g.InputLength);
        if (!bias.IsEmpty) g.CheckLength("bias", bias.Length, g.OutChannels);
        int xmax = (1 << weights.InputBits) - 1;
        if ((uint)inputZeroPoint > (uint)xmax)
            throw new ArgumentOutOfRangeException(nameof(inputZeroPoint), inputZeroPoint,
                $"IntConv2d: z_x must be a code of the {weights.InputBits}-bit input grid [0, {xmax}].");
        const int limit = int.MaxValue - (int)IntConv2dWeights.MaxDotMagnitude;
        for (int c = 0; c < bias.Length; c++)
            if (bias[c] > limit || bias[c] < -limit)
                throw new ArgumentOutOfRangeException(nameof(bias), bias[c],
                    $"IntConv2d: bias_q[{c}] = {bias[c]} leaves no room for the dot product in int32 (|bias_q| ≤ 2^30 − 1).");
    }

    private static void Core(in Conv2dGeometry g, byte* x, int zx, IntConv2dWeights w, int* bias, Requantization? rq, byte* y, int* accOut)
    {
        if (g.Batch == 0) return;
        var scratch = IntScratch.Current;
        int* offsets = scratch.Get(IntScratch.Offsets, g.OutChannels + g.KernelH * g.KernelW);
        var sums = w.CenteredSums;
        for (int c = 0; c < g.OutChannels; c++)
            offsets[c] = unchecked((bias == null ? 0 : bias[c]) - zx * sums[c]);

        if (w.Path == IntConvPath.Depthwise)
        {
            IntDepthwiseConv2d.Run(g, x, zx, w, offsets, rq, y, accOut);
            return;
        }

        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW;
        int taps = g.KernelH * g.KernelW;
        int* tapOffsets = offsets + g.OutChannels;
        int maxOffset = 0;
        for (int ky = 0; ky < g.KernelH; ky++)
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int off = ky * g.DilationH * wp + kx * g.DilationW;
                tapOffsets[ky * g.KernelW + kx] = off;
                if (off > maxOffset) maxOffset = off;
            }
        bool direct = g.StrideH == 1 && g.StrideW == 1;
        int positions = direct ? g.OutHeight * wp : g.OutputPlane;
        int tiles = (positions + IntConvTask.Tile - 1) / IntConvTask.Tile;
        long planeUnits = (long)hp * wp;
        if (direct && (long)tiles * IntConvTask.Tile + maxOffset > planeUnits) planeUnits = (long)tiles * IntConvTask.Tile + maxOffset;
        planeUnits = (planeUnits + 15) & ~15L;

        int units = w.ChannelUnits;
        // Images go through in chunks whose interleaved input stays cache-sized (pack a chunk, convolve it, next):
        // one region over the whole batch would stream megabytes through L2 between packing and use.
        long unitsPerImage = (long)g.Groups * units * planeUnits;
        int chunk = (int)(ChunkUnits / unitsPerImage);
        if (chunk < 1) chunk = 1;
        if (chunk > g.Batch) chunk = g.Batch;
        int* xu = scratch.Get(IntScratch.Input, chunk * unitsPerImage);
        int xmax = (1 << w.InputBits) - 1;
        int tasksPerImage = (tiles + TilesPerTask - 1) / TilesPerTask;
        long inImage = (long)g.InChannels * g.Height * g.Width, outImage = (long)g.OutChannels * g.OutputPlane;
        for (int n0 = 0; n0 < g.Batch; n0 += chunk)
        {
            int count = g.Batch - n0 < chunk ? g.Batch - n0 : chunk;
            var pack = new IntConvInputTask
            {
                X = x + n0 * inImage, Units = xu, Groups = g.Groups, InChannels = g.InChannels, GroupInChannels = g.GroupInChannels,
                Height = g.Height, Width = g.Width, PadH = g.PadH, PadW = g.PadW, Hp = hp, Wp = wp,
                UnitChannels = w.UnitChannels, ChannelUnits = units, PlaneUnits = planeUnits, ZeroPoint = zx,
                MaxCode = xmax, CheckMax = w.Path == IntConvPath.Madd16, ImageBase = n0,
            };
            ParallelRunner.Run(count * g.Groups * units, ref pack);

            var compute = new IntConvTask
            {
                Units = xu, Packed = w.PackedPointer, TapOffsets = tapOffsets, Offsets = offsets,
                Y = y == null ? null : y + n0 * outImage, AccOut = accOut == null ? null : accOut + n0 * outImage, Rq = rq,
                Path = w.Path, Direct = direct, Groups = g.Groups, OutChannels = g.OutChannels, GroupOutChannels = g.GroupOutChannels,
                ChannelUnits = units, ChannelBlocks = w.ChannelBlocks, Taps = taps, StepsPerWiden = w.StepsPerWiden,
                OutHeight = g.OutHeight, OutWidth = g.OutWidth, Wp = wp, StrideH = g.StrideH, StrideW = g.StrideW,
                PlaneUnits = planeUnits, Positions = positions, Tiles = tiles, TilesPerTask = TilesPerTask, TasksPerImage = tasksPerImage,
            };
            ParallelRunner.Run(count * g.Groups * tasksPerImage, ref compute);
        }
    }

    /// <summary>Whether this CPU runs the SIMD paths (AVX-512BW); without it every conv takes <see cref="IntConvPath.Reference"/>.</summary>
    public static bool IsAccelerated => Avx512BW.IsSupported;
}
