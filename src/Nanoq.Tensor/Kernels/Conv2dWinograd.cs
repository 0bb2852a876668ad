using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// 3 × 3 stride-1 convolutions by Winograd's minimal filtering F(4 × 4, 3 × 3) (Lavin &amp; Gray, "Fast Algorithms
/// for Convolutional Neural Networks", CVPR 2016, points 0, ±1, ±2, ∞). Each 4 × 4 tile of an output plane is
/// <code>
/// Y = Aᵀ [ Σ_c (G g_{o,c} Gᵀ) ⊙ (Bᵀ d_c B) ] A        d_c: the tile's 6 × 6 input patch of channel c
///
///      ⎡4  0 −5  0  1  0⎤        ⎡ 1/4    0     0 ⎤        ⎡1  1  1  1  1  0⎤
///      ⎢0 −4 −4  1  1  0⎥        ⎢−1/6 −1/6  −1/6 ⎥   Aᵀ = ⎢0  1 −1  2 −2  0⎥
/// Bᵀ = ⎢0  4 −4 −1  1  0⎥    G = ⎢−1/6  1/6  −1/6 ⎥        ⎢0  1  1  4  4  0⎥
///      ⎢0 −2 −1  2  1  0⎥        ⎢1/24 1/12   1/6 ⎥        ⎣0  1 −1  8 −8  1⎦
///      ⎢0  2 −1 −2  1  0⎥        ⎢1/24 −1/12  1/6 ⎥
///      ⎣0  4  0 −5  0  1⎦        ⎣  0    0     1  ⎦
/// </code>
/// so the sum over channels becomes 36 independent GEMMs, one per point ξ of the 6 × 6 transform domain:
/// <code>M_ξ[Cout, tiles] = U_ξ[Cout, Cin] · V_ξ[Cin, tiles]</code>
/// 36 multiply-adds per tile and channel pair where the direct convolution needs 16 · 9 = 144: a quarter of the
/// GEMM work, for transforms that cost a few dozen vector operations per tile and channel.
/// <para>
/// The price is accuracy: the transforms' constants (up to 8 and 1/24) add rounding error, so results differ from
/// the direct convolution's by more than its own rounding — about 2⁻²³ · (K + 32) times a sum of absolute values
/// that is larger than the direct one's (tests bound it: <c>Conv2dWinogradTests</c>). cuDNN, oneDNN and NNPACK
/// use the same tile for float training; PyTorch's CPU default (oneDNN's direct convolution) does not. A NaN or an
/// infinity in an input patch reaches all 16 outputs of its tile (and an infinity may become NaN), where the direct
/// path touches only the outputs whose 3 × 3 window holds it — a difference only for inputs already broken.
/// </para>
/// <para>
/// Layout (<see cref="Conv2dWinogradTileTask"/>): output tiles are numbered over (image, tile row, tile column) and
/// taken 32 at a time, a block: the block's transformed input V_ξ [Cin][32] is a packed B panel of the GEMM
/// micro-kernel as it stands (<see cref="GemmMicroKernel.Kernel8x32"/>), U_ξ is prepacked as A
/// (<see cref="Conv2dWinogradWeightsTask"/>), and the products M_ξ [Cout][32] are transformed back into the block's
/// output tiles while they are still in cache. Transforms run on 8 tiles (or 8 output channels) per
/// <c>Vector256</c> with a fixed order of operations, and the GEMM's micro-kernels give the same bits at both vector
/// levels, so a result is the same bytes on AVX2 and AVX-512 machines and on any thread count.
/// </para>
/// </summary>
internal static unsafe class Conv2dWinograd
{
    /// <summary>Output tile edge (m) and transform points ((m + r − 1)², the 6 × 6 patch).</summary>
    public const int Tile = 4, Points = 36;

    /// <summary>Output tiles per block: the GEMM micro-kernel's panel width.</summary>
    public const int BlockTiles = GemmMicroKernel.NR;

    /// <summary>
    /// Fewest input and output channels taken this way: the narrowest measured. Both paths alternating in one process
    /// (`Nanoq.Benchmarks --winograd` with the thresholds lowered, 09:50, load 0.7 → 0.8; forward, input gradient, weight
    /// gradient): 8 × 16 × 80² → 16 1.32, 1.32, 1.30× faster, 8 × 32 × 40² → 32 1.67, 1.59, 1.31×. (The first version of
    /// the transforms, before <see cref="PlaneGap"/>, gained under 7 % there, and this bound was 64 until then.)
    /// </summary>
    public const int MinChannels = 16;

    /// <summary>
    /// Fewest output tiles: each call transforms and packs 36 · Cout · Cin weights, which a few tiles do not pay back.
    /// Measured in the same run as <see cref="MinChannels"/>: 64 × 20² → 64 at batch 1 (25 tiles) 1.08, 1.05, 0.91×; 512 ×
    /// 7² → 512 at batch 8 (32 tiles, 38 MB of transformed weights through memory) 0.99, 0.87, 0.94×; 64 × 40² → 64 at
    /// batch 1 (100 tiles) 1.95, 2.00, 1.46×.
    /// </summary>
    public const int MinTiles = 64;

    /// <summary>
    /// Narrowest output map: below it the tiles waste too much. Measured in the same run: 64 × 10² → 64 at batch 8 (72
    /// tiles) 0.73, 0.75, 0.66× — 3 tiles cover 12 columns for 10 outputs, and a tile row's 3 tiles fill 3 of a vector's 8
    /// lanes in the transforms; 14 × 14 (ResNet's third stage, 4 tiles for 14) 1.8–1.9× faster.
    /// </summary>
    public const int MinSide = 14;

    /// <summary>
    /// Floats of a cache line left between two points' planes (of U, V, M, W and the weight gradient's partial sums): a
    /// transform touches all 36 planes for one pair of channels, and without the gap planes 2ⁿ bytes apart all fall in
    /// one L1 set and evict each other — the transforms took ≈ 55–60 % of a 64-channel conv in two perf profiles of it
    /// before the gap.
    /// </summary>
    public const int PlaneGap = 16;

    /// <summary>Floats between two points' planes of the prepacked U: a packed block of rows and the gap.</summary>
    public static long PointFloats(int rows, int k) => (long)GemmDriver.PaddedM(rows) * k + PlaneGap;

    /// <summary>Whether convolutions may run here at all (<see cref="Conv2dKernels.Winograd"/>).</summary>
    internal static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("NANOQ_WINOGRAD")?.Trim() != "0";

    /// <summary>
    /// Whether a convolution runs here: one group, a 3 × 3 kernel, stride and dilation 1, enough channels, tiles and
    /// columns, and a vector level (the portable level keeps the direct convolution).
    /// </summary>
    public static bool Suits(in Conv2dGeometry g) =>
        Enabled && Simd.IsVector && Avx2.IsSupported && g.Groups == 1 && g.KernelH == 3 && g.KernelW == 3
        && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.InChannels >= MinChannels && g.OutChannels >= MinChannels
        && g.OutHeight >= MinSide && g.OutWidth >= MinSide
        && (long)g.Batch * ((g.OutHeight + Tile - 1) / Tile) * ((g.OutWidth + Tile - 1) / Tile) >= MinTiles
        && (long)Points * GemmDriver.PaddedM(g.OutChannels) * g.InChannels < int.MaxValue;

    /// <summary>
    /// y = conv(x, w) + bias, or y += conv(x, w) when <paramref name="beta"/> = 1 (no bias then). With
    /// <paramref name="flipped"/>, w is the weight of the convolution whose input gradient this is — [Cin, Cout, 3, 3]
    /// in <paramref name="g"/>'s terms, used rotated by 180° and with its two channel axes swapped.
    /// </summary>
    public static void Forward(in Conv2dGeometry g, float* x, float* w, bool flipped, float* bias, float* y, float beta)
    {
        int rows = g.OutChannels, k = g.InChannels, mp = GemmDriver.PaddedM(rows);
        int threads = ParallelRunner.MaxDegreeOfParallelism;
        float* u = GemmScratch.Current.Get(GemmScratch.Weights, Points * PointFloats(rows, k));
        int panels = mp / 8;
        var weights = new Conv2dWinogradWeightsTask
        {
            W = w, U = u, Rows = rows, K = k, Flipped = flipped,
            Tasks = threads > 1 && (long)rows * k >= 1 << 12 ? Math.Min(panels, 4 * threads) : 1,
        };
        if (weights.Tasks > 1) ParallelRunner.Run(weights.Tasks, ref weights);
        else weights.Invoke(0);

        int tilesH = (g.OutHeight + Tile - 1) / Tile, tilesW = (g.OutWidth + Tile - 1) / Tile;
        long tiles = (long)g.Batch * tilesH * tilesW;
        int blocks = (int)((tiles + BlockTiles - 1) / BlockTiles);
        // Output channels in chunks of whole 8-row panels when there are too few blocks for the threads (64 tiles, the
        // fewest taken, are 2 blocks); each chunk transforms the block's input again, a small part of its work.
        int chunks = blocks >= 2 * threads ? 1 : Math.Clamp((2 * threads + blocks - 1) / blocks, 1, panels);
        var task = new Conv2dWinogradTileTask
        {
            G = g, X = x, U = u, Bias = bias, Y = y, Beta = beta, TilesH = tilesH, TilesW = tilesW, Tiles = tiles,
            RowChunks = chunks,
        };
        if (threads > 1 && blocks * chunks > 1) ParallelRunner.Run(blocks * chunks, ref task);
        else for (int i = 0; i < blocks * chunks; i++) task.Invoke(i);
    }

    /// <summary>Most floats of the weight gradient's partial sums (chunks of blocks, each a private P; beyond it fewer chunks).</summary>
    private const long PartialBudget = 1 << 22;
    private const int MaxGradChunks = 8;

    /// <summary>
    /// dw = ∂L/∂w (or += when <paramref name="accumulate"/>) of a convolution <see cref="Suits"/>: y's tiles are
    /// Aᵀ [U ⊙ V] A with U = G g Gᵀ, so by the chain rule through both linear maps
    /// <code>
    /// P_ξ[o, c] = Σ_tiles (A dy_{o,t} Aᵀ)_ξ · (Bᵀ d_{c,t} B)_ξ          36 GEMMs over the tiles
    /// dw[o, c]  = Gᵀ P[o, c] G
    /// </code>
    /// The tiles' blocks are cut into chunks fixed by the sizes alone (never the threads), each summed in block order
    /// into a private P; the chunks are added in order, so the result does not depend on the thread count. (Groups of
    /// 128 tiles a GEMM, to read and write a 256-channel layer's 9 MiB of partial sums a quarter as often, measured
    /// slower at every ResNet-18 shape: fewer groups leave fewer chunks, and a 128-tile V no longer stays in L2.)
    /// </summary>
    public static void BackwardWeight(in Conv2dGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        int rows = g.OutChannels, k = g.InChannels, threads = ParallelRunner.MaxDegreeOfParallelism;
        int tilesH = (g.OutHeight + Tile - 1) / Tile, tilesW = (g.OutWidth + Tile - 1) / Tile;
        long tiles = (long)g.Batch * tilesH * tilesW;
        int blocks = (int)((tiles + BlockTiles - 1) / BlockTiles);
        long pointStride = (long)rows * k + PlaneGap, partialStride = Points * pointStride;
        int chunks = (int)Math.Clamp(Math.Min(blocks, PartialBudget / partialStride), 1, MaxGradChunks);
        int panels = GemmDriver.PaddedM(rows) / 8;
        int splits = chunks >= 2 * threads ? 1 : Math.Clamp((2 * threads + chunks - 1) / chunks, 1, panels);
        float* partials = GemmScratch.Current.Get(GemmScratch.Partials, chunks * partialStride);
        float* transformed = null;
        if (splits > 2)
        {
            transformed = GemmScratch.Current.Get(GemmScratch.Weights, blocks * Conv2dWinogradInputTask.BlockFloats(k));
            var input = new Conv2dWinogradInputTask { G = g, X = x, V = transformed, TilesH = tilesH, TilesW = tilesW, Tiles = tiles };
            if (threads > 1 && blocks > 1) ParallelRunner.Run(blocks, ref input);
            else for (int b = 0; b < blocks; b++) input.Invoke(b);
        }
        var task = new Conv2dWinogradGradTask
        {
            G = g, X = x, Dy = dy, Partials = partials, Transformed = transformed, TilesH = tilesH, TilesW = tilesW,
            Tiles = tiles, Blocks = blocks, Chunks = chunks, RowSplits = splits, PointStride = pointStride,
        };
        if (threads > 1 && chunks * splits > 1) ParallelRunner.Run(chunks * splits, ref task);
        else for (int i = 0; i < chunks * splits; i++) task.Invoke(i);

        var output = new Conv2dWinogradGradOutputTask
        {
            Partials = partials, Dw = dw, Rows = rows, K = k, Chunks = chunks, PointStride = pointStride,
            Accumulate = accumulate, Tasks = threads > 1 && (long)rows * k >= 1 << 12 ? Math.Min(rows, 4 * threads) : 1,
        };
        if (output.Tasks > 1) ParallelRunner.Run(output.Tasks, ref output);
        else output.Invoke(0);
    }

    /// <summary>
    /// The output gradient's transform along one axis, (y0, y1, y2, y3) → A y:
    /// s0 = y0, s1 = (y0 + y2) + (y1 + y3), s2 = (y0 + y2) − (y1 + y3), s3 = (y0 + 4y2) + (2y1 + 8y3),
    /// s4 = (y0 + 4y2) − (2y1 + 8y3), s5 = y3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientTransform(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3,
        out Vector256<float> s0, out Vector256<float> s1, out Vector256<float> s2,
        out Vector256<float> s3, out Vector256<float> s4, out Vector256<float> s5)
    {
        var even = y0 + y2;
        var odd = y1 + y3;
        var even4 = y0 + y2 * Vector256.Create(4f);
        var odd8 = (y1 + y1) + y3 * Vector256.Create(8f);
        s0 = y0;
        s1 = even + odd;
        s2 = even - odd;
        s3 = even4 + odd8;
        s4 = even4 - odd8;
        s5 = y3;
    }

    /// <summary>
    /// The weight gradient's transform back along one axis, p → Gᵀ p: r0 = p0/4 − (p1 + p2)/6 + (p3 + p4)/24,
    /// r1 = (p2 − p1)/6 + (p3 − p4)/12, r2 = ((p3 + p4) − (p1 + p2))/6 + p5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WeightGradientTransform(Vector256<float> p0, Vector256<float> p1, Vector256<float> p2,
        Vector256<float> p3, Vector256<float> p4, Vector256<float> p5,
        out Vector256<float> r0, out Vector256<float> r1, out Vector256<float> r2)
    {
        var sixth = Vector256.Create(1f / 6f);
        var s12 = p1 + p2;
        var s34 = p3 + p4;
        r0 = (p0 * Vector256.Create(0.25f) - s12 * sixth) + s34 * Vector256.Create(1f / 24f);
        r1 = (p2 - p1) * sixth + (p3 - p4) * Vector256.Create(1f / 12f);
        r2 = (s34 - s12) * sixth + p5;
    }

    /// <summary>
    /// The weight transform along one axis, (g0, g1, g2) → G · g:
    /// u0 = g0/4, u1 = −(g0 + g1 + g2)/6, u2 = −(g0 − g1 + g2)/6, u3 = g0/24 + g1/12 + g2/6, u4 = g0/24 − g1/12 + g2/6, u5 = g2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WeightTransform(Vector256<float> g0, Vector256<float> g1, Vector256<float> g2,
        out Vector256<float> u0, out Vector256<float> u1, out Vector256<float> u2,
        out Vector256<float> u3, out Vector256<float> u4, out Vector256<float> u5)
    {
        var sixth = Vector256.Create(1f / 6f);
        var even = g0 + g2;
        u0 = g0 * Vector256.Create(0.25f);
        u1 = -((even + g1) * sixth);
        u2 = -((even - g1) * sixth);
        var a = g0 * Vector256.Create(1f / 24f) + g2 * sixth;
        var b = g1 * Vector256.Create(1f / 12f);
        u3 = a + b;
        u4 = a - b;
        u5 = g2;
    }

    /// <summary>
    /// The input transform along one axis, d → Bᵀ d:
    /// v0 = 4d0 − 5d2 + d4, v1 = (d3 + d4) − 4(d1 + d2), v2 = (d4 − d3) + 4(d1 − d2), v3 = (d4 − d2) + 2(d3 − d1),
    /// v4 = (d4 − d2) − 2(d3 − d1), v5 = 4d1 − 5d3 + d5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputTransform(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2,
        Vector256<float> d3, Vector256<float> d4, Vector256<float> d5,
        out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2,
        out Vector256<float> v3, out Vector256<float> v4, out Vector256<float> v5)
    {
        var four = Vector256.Create(4f);
        var five = Vector256.Create(5f);
        v0 = (d0 * four - d2 * five) + d4;
        v1 = (d3 + d4) - (d1 + d2) * four;
        v2 = (d4 - d3) + (d1 - d2) * four;
        var e = d4 - d2;
        var f = d3 - d1;
        v3 = e + (f + f);
        v4 = e - (f + f);
        v5 = (d1 * four - d3 * five) + d5;
    }

    /// <summary>
    /// The output transform along one axis, m → Aᵀ m: o0 = m0 + (m1 + m2) + (m3 + m4), o1 = (m1 − m2) + 2(m3 − m4),
    /// o2 = (m1 + m2) + 4(m3 + m4), o3 = (m1 − m2) + 8(m3 − m4) + m5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputTransform(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2,
        Vector256<float> m3, Vector256<float> m4, Vector256<float> m5,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3)
    {
        var s12 = m1 + m2;
        var d12 = m1 - m2;
        var s34 = m3 + m4;
        var d34 = m3 - m4;
        o0 = (m0 + s12) + s34;
        o1 = d12 + (d34 + d34);
        o2 = s12 + s34 * Vector256.Create(4f);
        o3 = (d12 + d34 * Vector256.Create(8f)) + m5;
    }

    /// <summary>
    /// 32 consecutive floats as 8 groups of 4 → 4 vectors, vector j holding element j of each group:
    /// p_j[t] = src[4t + j] (a 4 × 8 transpose).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave4(float* src, out Vector256<float> p0, out Vector256<float> p1,
        out Vector256<float> p2, out Vector256<float> p3)
    {
        var v0 = Avx.LoadVector256(src);        // groups 0, 1
        var v1 = Avx.LoadVector256(src + 8);    // groups 2, 3
        var v2 = Avx.LoadVector256(src + 16);   // groups 4, 5
        var v3 = Avx.LoadVector256(src + 24);   // groups 6, 7
        var t0 = Avx.Permute2x128(v0, v2, 0x20); // groups 0 | 4
        var t1 = Avx.Permute2x128(v0, v2, 0x31); // groups 1 | 5
        var t2 = Avx.Permute2x128(v1, v3, 0x20); // groups 2 | 6
        var t3 = Avx.Permute2x128(v1, v3, 0x31); // groups 3 | 7
        var u0 = Avx.UnpackLow(t0, t1);          // 0.0 1.0 0.1 1.1 | 4.0 5.0 4.1 5.1
        var u1 = Avx.UnpackHigh(t0, t1);         // 0.2 1.2 0.3 1.3 | …
        var u2 = Avx.UnpackLow(t2, t3);          // 2.0 3.0 2.1 3.1 | …
        var u3 = Avx.UnpackHigh(t2, t3);
        p0 = Avx.Shuffle(u0, u2, 0x44);          // 0.0 1.0 2.0 3.0 | 4.0 5.0 6.0 7.0
        p1 = Avx.Shuffle(u0, u2, 0xEE);
        p2 = Avx.Shuffle(u1, u3, 0x44);
        p3 = Avx.Shuffle(u1, u3, 0xEE);
    }

    /// <summary>The inverse of <see cref="Deinterleave4"/>: dst[4t + j] = p_j[t] for 8 groups t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave4(Vector256<float> p0, Vector256<float> p1, Vector256<float> p2, Vector256<float> p3,
        float* dst)
    {
        var lo01 = Avx.UnpackLow(p0, p1);        // 0.0 0.1 1.0 1.1 | 4.0 4.1 5.0 5.1
        var hi01 = Avx.UnpackHigh(p0, p1);       // 2.0 2.1 3.0 3.1 | 6.…
        var lo23 = Avx.UnpackLow(p2, p3);        // 0.2 0.3 1.2 1.3 | …
        var hi23 = Avx.UnpackHigh(p2, p3);
        var g04 = Avx.Shuffle(lo01, lo23, 0x44); // group 0 | group 4
        var g15 = Avx.Shuffle(lo01, lo23, 0xEE); // group 1 | group 5
        var g26 = Avx.Shuffle(hi01, hi23, 0x44);
        var g37 = Avx.Shuffle(hi01, hi23, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(g04, g15, 0x20));
        Avx.Store(dst + 8, Avx.Permute2x128(g26, g37, 0x20));
        Avx.Store(dst + 16, Avx.Permute2x128(g04, g15, 0x31));
        Avx.Store(dst + 24, Avx.Permute2x128(g26, g37, 0x31));
    }
}
