using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Integer 2-D convolution over NCHW codes (DESIGN.md §5, geometry: <see cref="Conv2dGeometry"/>):
/// <code>
///     acc = bias_q[o] + Σ (w_q − z_w[o]) · (x_q − z_x)                     (int32; x_q = z_x in the padding)
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[o], shift[o]), lo, hi)
/// </code>
/// with any stride, padding, dilation and groups; depthwise geometries run a direct kernel, and 3 × 3 stride-1 convs with
/// at least 32 input channels Winograd's F(2 × 2, 3 × 3) on the codes where the CPU has AVX-512 VBMI, from 64 channels
/// and 16 × 16 outputs on AVX2 (<see cref="IntConv2dWinograd"/>: exact, the same accumulators). Otherwise the inner product is
/// chosen when the weights are packed (<see cref="IntConv2dWeights"/>, <see cref="IntConvPath"/>); every path gives the
/// accumulators of <see cref="IntConv2dReference"/> bit for bit. Work is split over
/// <see cref="ParallelRunner.MaxDegreeOfParallelism"/> cores by (image, group, position range), never along the
/// sum, so results do not depend on the thread count; small maps run as one batch of positions (<see cref="RunTall"/>).
/// Scratch is per thread and reused: steady state allocates nothing.
/// </summary>
public static unsafe class IntConv2d
{
    /// <summary>Tiles of 64 positions per task: small enough to balance two cores, large enough to amortise a hand-off.</summary>
    private const int TilesPerTask = 4;

    /// <summary>
    /// Convs of fewer multiply-adds run on the calling thread (a kernel worker woken from sleep starts 50–70 µs late on this
    /// VM, a spinning one ≈ 2 µs; benchmarks/README.md, fifth session). Measured in one process, 3×3 convs 64 → 64
    /// channels at 4 bits, batch 8: a 2×2 map took 27 µs on one thread against 61 on two, a 5×5 map 54 against 66; from
    /// 10×10 (29M multiply-adds) two threads win.
    /// </summary>
    private const long SerialBelowMacs = 1L << 24;

    /// <summary>
    /// The same bound for a conv started inside a running region (<see cref="ParallelRunner.IsNested"/>: an op of a
    /// program run by branches), whose helpers are spinning threads that join in about a microsecond. Measured on the
    /// default Faster R-CNN at batch 1 (the ops' times inside the run, 400 runs): ResNet-18 ×0.25's 3×3 convs of
    /// 3.7M multiply-adds on 40 × 40 maps took 23 µs shared against 38 alone, on 10 × 10 maps (channel blocks split)
    /// 20 against 34 (2026-12-07). The 1×1 downsampling convs (0.2–0.4M) stay serial.
    /// </summary>
    private const long NestedSerialBelowMacs = 1L << 20;

    /// <summary>Interleaved input units per chunk of images (1 MiB: about the L2 of a core).</summary>
    internal const long ChunkUnits = 1 << 18;

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

        long macs = (long)g.Batch * g.OutputPlane * g.OutChannels * g.GroupInChannels * g.KernelH * g.KernelW;
        bool parallel = macs >= (ParallelRunner.IsNested ? NestedSerialBelowMacs : SerialBelowMacs);
        if (IntConv2dWinograd.Suits(g, w))
        {
            IntConv2dWinograd.Run(g, x, zx, w, offsets, rq, y, accOut, parallel);
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
        int xmax = (1 << w.InputBits) - 1;
        long inImage = (long)g.InChannels * g.Height * g.Width, outImage = (long)g.OutChannels * g.OutputPlane;
        if (g.Groups == 1 && 4 * Tiles((long)g.Batch * g.OutputPlane) <= 3L * g.Batch * tiles)
        {
            RunTall(g, x, zx, w, rq, y, accOut, offsets, tapOffsets, hp, wp, xmax, inImage, outImage, parallel);
            return;
        }
        // Images go through in chunks whose interleaved input stays cache-sized (pack a chunk, convolve it, next):
        // one region over the whole batch would stream megabytes through L2 between packing and use.
        long unitsPerImage = (long)g.Groups * units * planeUnits;
        int chunk = (int)(ChunkUnits / unitsPerImage);
        if (chunk < 1) chunk = 1;
        if (chunk > g.Batch) chunk = g.Batch;
        int* xu = scratch.Get(IntScratch.Input, chunk * unitsPerImage);
        for (int n0 = 0; n0 < g.Batch; n0 += chunk)
        {
            int count = g.Batch - n0 < chunk ? g.Batch - n0 : chunk;
            var (tilesPerTask, splits) = Split(count * g.Groups, tiles, w.ChannelBlocks, parallel);
            int tasksPerImage = (tiles + tilesPerTask - 1) / tilesPerTask;
            var pack = new IntConvInputTask
            {
                X = x + n0 * inImage, Units = xu, Groups = g.Groups, InChannels = g.InChannels, GroupInChannels = g.GroupInChannels,
                Height = g.Height, Width = g.Width, PadH = g.PadH, PadW = g.PadW, Hp = hp, Wp = wp,
                UnitChannels = w.UnitChannels, ChannelUnits = units, PlaneUnits = planeUnits,
                ImageStride = units * planeUnits, UnitStride = planeUnits, ZeroPoint = zx,
                MaxCode = xmax, CheckMax = w.Path == IntConvPath.Madd16, ImageBase = n0,
            };
            ParallelRunner.Run(count * g.Groups * units, ref pack, parallel);

            var compute = new IntConvTask
            {
                Units = xu, Packed = w.PackedPointer, TapOffsets = tapOffsets, Offsets = offsets,
                Y = y == null ? null : y + n0 * outImage, AccOut = accOut == null ? null : accOut + n0 * outImage, Rq = rq,
                Path = w.Path, Direct = direct, Groups = g.Groups, OutChannels = g.OutChannels, GroupOutChannels = g.GroupOutChannels,
                ChannelUnits = units, ChannelBlocks = w.ChannelBlocks, Taps = taps, StepsPerWiden = w.StepsPerWiden,
                OutHeight = g.OutHeight, OutWidth = g.OutWidth, Wp = wp, StrideH = g.StrideH, StrideW = g.StrideW,
                PlaneUnits = planeUnits, Positions = positions, Tiles = tiles, TilesPerTask = tilesPerTask, TasksPerImage = tasksPerImage,
                ChannelSplits = splits,
            };
            ParallelRunner.Run(count * g.Groups * tasksPerImage * splits, ref compute, parallel);
        }
    }

    /// <summary>
    /// Tiles a task and channel-block runs a tile run for <paramref name="tileRuns"/> (image, group) pairs of
    /// <paramref name="tiles"/> tiles: <see cref="TilesPerTask"/> and whole groups where that makes two tasks a thread or
    /// more; else single tiles, and, when a thread is lending itself to this conv's region
    /// (<see cref="ParallelRunner.HasLenders"/>), the channel blocks split until it does (a small map at batch 1 — a 10 × 10
    /// map is two tiles — would otherwise keep one core). Not without one: each split gathers the strided or tall panel
    /// again, work for nothing when one thread runs every split (groups of images side by side at batch 8). With the split
    /// unconditional, sitting U's integer RetinaNet b8 took 7.71 / 7.84 ms against 7.45 / 8.01 for the session's start
    /// build in the same rounds (04:58–05:00); with this condition 7.35–7.62 ms against 7.50–7.65, alone, four alternating
    /// rounds (05:05, load 1.6–1.7). Every split computes the same sums, so results do not depend on it.
    /// </summary>
    private static (int TilesPerTask, int ChannelSplits) Split(int tileRuns, int tiles, int channelBlocks, bool parallel)
    {
        if (!parallel) return (TilesPerTask, 1);
        long want = 2L * ParallelRunner.MaxDegreeOfParallelism;
        if ((long)tileRuns * ((tiles + TilesPerTask - 1) / TilesPerTask) >= want) return (TilesPerTask, 1);
        long tasks = (long)tileRuns * tiles;
        if (tasks >= want || !ParallelRunner.HasLenders) return (1, 1);
        long splits = (want + tasks - 1) / tasks;
        return (1, splits < channelBlocks ? (int)splits : channelBlocks);
    }

    private static long Tiles(long positions) => (positions + IntConvTask.Tile - 1) / IntConvTask.Tile;

    /// <summary>
    /// Small maps: the images' padded planes stacked into one tall plane per channel unit, and the batch's output positions
    /// gathered into 64-position tiles as one run (the strided path's panel, <c>vpgatherdd</c>), so a tile holds several
    /// images' outputs instead of mostly padding or emptiness (a 2×2 map at stride 1 is 8 computed positions of which 4
    /// are outputs, in a tile of 64). Chosen when it needs at most three quarters of the per-image tiles. Each output
    /// still reads only its own image's plane, so the accumulators are the per-image ones.
    /// </summary>
    private static void RunTall(in Conv2dGeometry g, byte* x, int zx, IntConv2dWeights w, Requantization? rq, byte* y, int* accOut,
                                int* offsets, int* tapOffsets, int hp, int wp, int xmax, long inImage, long outImage, bool parallel)
    {
        int units = w.ChannelUnits, imagePlane = hp * wp;
        int zunit = w.UnitChannels == 4 ? zx * 0x01010101 : zx | (zx << 16);
        long fit = ChunkUnits / ((long)units * imagePlane);
        int chunk = fit < 1 ? 1 : fit > g.Batch ? g.Batch : (int)fit;
        for (int n0 = 0; n0 < g.Batch; n0 += chunk)
        {
            int count = g.Batch - n0 < chunk ? g.Batch - n0 : chunk;
            int positions = count * g.OutputPlane, tiles = (int)Tiles(positions);
            long planeUnits = ((long)count * imagePlane + 15) & ~15L;
            int* xu = IntScratch.Current.Get(IntScratch.Input, units * planeUnits);
            var pack = new IntConvInputTask
            {
                X = x + n0 * inImage, Units = xu, Groups = 1, InChannels = g.InChannels, GroupInChannels = g.GroupInChannels,
                Height = g.Height, Width = g.Width, PadH = g.PadH, PadW = g.PadW, Hp = hp, Wp = wp,
                UnitChannels = w.UnitChannels, ChannelUnits = units, PlaneUnits = imagePlane,
                ImageStride = imagePlane, UnitStride = planeUnits, ZeroPoint = zx,
                MaxCode = xmax, CheckMax = w.Path == IntConvPath.Madd16, ImageBase = n0,
            };
            ParallelRunner.Run(count * units, ref pack, parallel);
            for (int cu = 0; cu < units; cu++)   // the rounding slack past the last image (read by no position)
                new Span<int>(xu + cu * planeUnits + count * imagePlane, (int)(planeUnits - (long)count * imagePlane)).Fill(zunit);
            var compute = new IntConvTask
            {
                Units = xu, Packed = w.PackedPointer, TapOffsets = tapOffsets, Offsets = offsets,
                Y = y == null ? null : y + n0 * outImage, AccOut = accOut == null ? null : accOut + n0 * outImage, Rq = rq,
                Path = w.Path, Direct = false, Groups = 1, OutChannels = g.OutChannels, GroupOutChannels = g.GroupOutChannels,
                ChannelUnits = units, ChannelBlocks = w.ChannelBlocks, Taps = g.KernelH * g.KernelW, StepsPerWiden = w.StepsPerWiden,
                OutHeight = g.OutHeight, OutWidth = g.OutWidth, Wp = wp, StrideH = g.StrideH, StrideW = g.StrideW,
                PlaneUnits = planeUnits, Positions = positions, Tiles = tiles, TilesPerTask = 1, TasksPerImage = tiles,
                ImagePlane = imagePlane, ChannelSplits = Split(1, tiles, w.ChannelBlocks, parallel).ChannelSplits,
            };
            ParallelRunner.Run(tiles * compute.ChannelSplits, ref compute, parallel);
        }
    }

    /// <summary>Whether the SIMD paths run (<see cref="Simd.Level"/> AVX2 or AVX-512); without them every conv takes <see cref="IntConvPath.Reference"/>.</summary>
    public static bool IsAccelerated => Simd.IsVector;
}
