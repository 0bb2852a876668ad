using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// 3 × 3 stride-1 integer convolutions by Winograd's F(2 × 2, 3 × 3) (Lavin &amp; Gray, CVPR 2016) on codes, exact: the
/// same int32 accumulators as <see cref="IntConv2dReference"/>, so the same output codes as the direct path, bit for bit.
/// For a 2 × 2 output tile and its 4 × 4 input patch d of codes,
/// <code>
///     4 · Y = Aᵀ [ Σ_c U'_c ⊙ (Bᵀ d_c B) ] A,      U' = (2G) g (2G)ᵀ          (<see cref="IntWinogradWeights"/>)
///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],   Aᵀ = [1 1 1 0; 0 1 −1 −1]
/// </code>
/// 16 multiplies a channel pair where the direct conv has 36: 2.25× fewer. Every step is integer: Bᵀ d B of codes in
/// [0, x_max] lies in [−2·x_max, 4·x_max], shifted by 2·x_max where it can be negative (<see cref="IntWinogradWeights.InputOffset"/>)
/// it is a byte in [0, 4·x_max] — 60 for 4-bit codes — and U' of 4-bit weights fits s8, so the products run on
/// <c>vpmaddubsw</c> exactly as the direct <see cref="IntConvPath.Madd16"/> path's do, with 16-bit sums widened every
/// <see cref="IntWinogradWeights.PointSteps"/> steps (bounded by these weights: 1–16 against 72 there, the price of the larger operands).
/// The offset's contribution is a constant per output channel and tile pixel, removed after the output transform
/// (<see cref="IntWinogradWeights.Corrections"/>), and 4·Y is divided by 4 exactly (an arithmetic shift). The input's zero
/// point is handled as in the direct path: codes as they are, padding reads z_x, −z_x·Σ(w_q − z_w) in the offset.
/// <para>
/// Where: the weights have a transform (<see cref="IntConv2dWeights.Winograd"/>: 3 × 3, one group, the
/// <see cref="IntConvPath.Madd16"/> path, U' within s8), the geometry is stride and dilation 1, and the layer is large
/// enough (<see cref="MinInChannels"/>; on AVX2 <see cref="MinInChannels256"/>, <see cref="MinOutputSide256"/>). The
/// 512-bit forms need AVX-512 with VBMI (byte permutes scatter the tiles' pixel pairs); AVX2 runs 256-bit forms with the
/// same arithmetic. Elsewhere the direct path computes the same codes.
/// <see cref="Enabled"/> (or <c>NANOQ_INT_WINOGRAD=0</c>) turns it off.
/// </para>
/// </summary>
public static unsafe class IntConv2dWinograd
{
    /// <summary>Output tiles a block transforms and multiplies at once: the 64 positions of a micro-kernel tile.</summary>
    internal const int BlockTiles = IntConvTask.Tile;

    /// <summary>Ints between two points' planes (V' and the accumulators): a cache line, so the 16 planes a transform
    /// touches at once do not all fall into one L1 set when a plane is a multiple of 4 KiB.</summary>
    internal const int PlaneGap = 16;

    /// <summary>Whether convs that suit it run by Winograd. Default on; <c>NANOQ_INT_WINOGRAD=0</c> turns it off.</summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("NANOQ_INT_WINOGRAD") != "0";

    /// <summary>
    /// Fewer input channels stay direct: the transforms' cost is per tile and channel, the products' per channel pair, so
    /// few input channels leave too little product work to pay for them. Measured with the bound lowered (both paths
    /// alternating in one process, three processes a shape, 4-bit codes, 2 threads, about 10:24 on 2026-12-07, load
    /// 1.5): 16 channels at 40 × 40, batch 8: 0.88–0.91× (1.16× at batch 1, 4 µs); 48 channels 1.42–1.44×. From 32
    /// channels up see benchmarks/README.md ("thirteenth session", `Nanoq.Integer.Benchmarks --winograd`, 10:52, load
    /// 1.2–1.5): 1.02× (64 channels, 5 × 5, batch 8) to 1.59×. Settable (tests run small layers through it); the results
    /// are the same codes either way.
    /// </summary>
    public static int MinInChannels { get; set; } = 32;

    /// <summary>
    /// The bounds of the 256-bit forms (AVX2, or AVX-512 without VBMI): at least 64 input channels and 16 × 16 outputs.
    /// They gain less — 8 tiles a vector in the transforms, the direct path's memory-widening micro-kernel — measured with
    /// <c>NANOQ_MAX_ISA=avx2</c> on the Zen 4 (`Nanoq.Integer.Benchmarks --winograd`, 11:03, load 1.5): 64 channels 1.06×
    /// at 56², 1.08× (batch 8) and 1.21× (batch 1) at 40², 1.18× and 1.11× at 20², but 0.95×/1.05× at 10², 0.71–0.86× at
    /// 5², and 32 channels 0.86–0.95×.
    /// </summary>
    public static int MinInChannels256 { get; set; } = 64;

    /// <inheritdoc cref="MinInChannels256"/>
    public static int MinOutputSide256 { get; set; } = 16;

    /// <summary>Whether this CPU (and <see cref="Simd.Level"/>) can run it: AVX2 or AVX-512.</summary>
    public static bool IsSupported => Simd.IsVector;

    /// <summary>The 512-bit forms (AVX-512 with VBMI, whose byte permutes scatter the pixel pairs); else the 256-bit ones,
    /// which give the same codes.</summary>
    internal static bool Is512 => Simd.Is512 && Avx512Vbmi.IsSupported;

    /// <summary>Whether a conv of these weights and geometry runs here.</summary>
    public static bool Suits(in Conv2dGeometry g, IntConv2dWeights w) =>
        Enabled && IsSupported && w.Winograd != null && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.Groups == 1 && g.KernelH == 3 && g.KernelW == 3
        && (Is512
            ? g.InChannels >= MinInChannels
            : g.InChannels >= MinInChannels256 && g.OutHeight >= MinOutputSide256 && g.OutWidth >= MinOutputSide256);

    /// <summary>
    /// The conv by F(2 × 2, 3 × 3): <paramref name="offsets"/>[o] = bias[o] − z_x·Σ(w_q − z_w[o]); writes codes
    /// (<paramref name="rq"/>, <paramref name="y"/>) or accumulators (<paramref name="accOut"/>).
    /// </summary>
    internal static void Run(in Conv2dGeometry g, byte* x, int zx, IntConv2dWeights w, int* offsets, Requantization? rq, byte* y,
        int* accOut, bool parallel)
    {
        var wino = w.Winograd!;
        int tilesH = (g.OutHeight + 1) / 2, tilesW = (g.OutWidth + 1) / 2;
        // The padded plane covers every tile's whole patch: 2·tiles + 2 rows and columns, z_x past the image and its padding.
        int hp = 2 * tilesH + 2, wp = 2 * tilesW + 2;
        // Slack past the plane: a row's loads read up to 34 units from a segment's first column.
        long planeUnits = ((long)hp * wp + 48 + 15) & ~15L;
        int units = w.ChannelUnits;
        long inImage = (long)g.InChannels * g.Height * g.Width, outImage = (long)g.OutChannels * g.OutputPlane;
        int chunk = (int)(IntConv2d.ChunkUnits / (units * planeUnits));   // images whose planes stay about L2-sized
        if (chunk < 1) chunk = 1;
        if (chunk > g.Batch) chunk = g.Batch;
        var scratch = IntScratch.Current;
        int* xu = scratch.Get(IntScratch.Input, chunk * units * planeUnits);
        for (int n0 = 0; n0 < g.Batch; n0 += chunk)
        {
            int count = g.Batch - n0 < chunk ? g.Batch - n0 : chunk;
            var pack = new IntConvInputTask
            {
                X = x + n0 * inImage, Units = xu, Groups = 1, InChannels = g.InChannels, GroupInChannels = g.InChannels,
                Height = g.Height, Width = g.Width, PadH = g.PadH, PadW = g.PadW, Hp = hp, Wp = wp,
                UnitChannels = 4, ChannelUnits = units, PlaneUnits = planeUnits,
                ImageStride = units * planeUnits, UnitStride = planeUnits, ZeroPoint = zx,
                MaxCode = (1 << w.InputBits) - 1, CheckMax = true, ImageBase = n0,
            };
            ParallelRunner.Run(count * units, ref pack, parallel);

            int tiles = count * tilesH * tilesW;
            int blocks = (tiles + BlockTiles - 1) / BlockTiles;
            // Fewer blocks than two a thread: split the channel blocks too, each split transforming the block's input again.
            // Unlike the direct path (IntConv2d.Split), not only while a thread lends itself: a block is 64 tiles, 256
            // outputs, so a small map at batch 1 is one or two blocks and would otherwise keep one core.
            int splits = 1;
            long want = 2L * ParallelRunner.MaxDegreeOfParallelism;
            if (parallel && blocks < want)
            {
                long more = (want + blocks - 1) / blocks;
                splits = more < w.ChannelBlocks ? (int)more : w.ChannelBlocks;
            }
            var task = new IntWinogradTileTask
            {
                Units = xu, Packed = wino.PackedPointer, Corrections = wino.CorrectionsPointer, Offsets = offsets,
                Y = y == null ? null : y + n0 * outImage, AccOut = accOut == null ? null : accOut + n0 * outImage, Rq = rq,
                PointSteps = wino.PointStepsPointer, OutChannels = g.OutChannels, ChannelUnits = units, ChannelBlocks = w.ChannelBlocks,
                InputOffset = wino.InputOffset, OutHeight = g.OutHeight, OutWidth = g.OutWidth, TilesH = tilesH, TilesW = tilesW,
                Wp = wp, PlaneUnits = planeUnits, ImageUnits = units * planeUnits, Tiles = tiles, ChannelSplits = splits,
            };
            ParallelRunner.Run(blocks * splits, ref task, parallel);
        }
    }
}
