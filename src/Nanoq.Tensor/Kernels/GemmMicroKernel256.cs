using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// The 256-bit (AVX2 + FMA3) forms of <see cref="GemmMicroKernel"/>'s tiles, bit-identical to the 512-bit ones.
/// AVX2 has 16 ymm registers, so the 8×32 tile (16 zmm accumulators) cannot live in registers at once: it is computed
/// as 4×16 sub-tiles (8 ymm accumulators, 2 loads of B and 4 broadcasts of A per k), in the order rows 0–3 and 4–7
/// of columns 0–15, then of columns 16–31, so the half of the B panel in use stays in L1 between its two passes.
/// Each output is still 0 plus one FMA per k in k order, then the same epilogue expression (α·acc, β·C by the same
/// FMA, + bias), so it gets the same bits as from the 8×32 zmm tile: the tile shape decides which outputs are
/// computed together, never the arithmetic of one.
/// </summary>
/// <remarks>
/// 8 accumulators are exactly what two FMA pipes of 4-cycle latency (Zen 3) need to stay busy.
/// The B operand is a <typeparamref name="TB"/> struct, specialized by the JIT: a packed panel (row k at b + k·ld)
/// or the rows of a convolution's phase buffer (row k at b + rows[k]).
/// </remarks>
internal static unsafe class GemmMicroKernel256
{
    /// <summary>The rows of the B operand in k order, as a cursor (a pointer bump per row, no multiply in the loop).</summary>
    public interface IRowsB
    {
        /// <summary>Where the next row of B starts.</summary>
        float* Next();

        /// <summary>Moves on <paramref name="k"/> rows.</summary>
        void Skip(int k);
    }

    /// <summary>A packed panel [kc][ld], read from the column at <c>b</c>: row k at b + k·ld.</summary>
    public struct Panel(float* b, int ld) : IRowsB
    {
        private float* _row = b;
        private readonly int _ld = ld;

        public float* Next()
        {
            float* r = _row;
            _row += _ld;
            return r;
        }

        public void Skip(int k) => _row += (long)k * _ld;
    }

    /// <summary>Rows in place: row k at b + rows[k] (see <see cref="GemmMicroKernel.Kernel8x32Rows"/>).</summary>
    public struct Offsets(float* b, int* rows) : IRowsB
    {
        private readonly float* _b = b;
        private int* _rows = rows;

        public float* Next() => _b + *_rows++;

        public void Skip(int k) => _rows += k;
    }

    /// <summary>The 8×32 tile of <see cref="GemmMicroKernel.Kernel8x32"/>: packed A [kc][8], packed B [kc][32].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, in GemmEpilogue ep) =>
        Kernel8xN(kc, a, new Panel(b, 32), new Panel(b + 16, 32), 2, c, ldc, ep);

    /// <summary>The 8×32 tile of <see cref="GemmMicroKernel.Kernel8x32Rows"/>: row k of B at b + rows[k].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x32Rows(int kc, float* a, float* b, int* rows, float* c, int ldc, in GemmEpilogue ep) =>
        Kernel8xN(kc, a, new Offsets(b, rows), new Offsets(b + 16, rows), 2, c, ldc, ep);

    /// <summary>The 8×16 tile of <see cref="GemmMicroKernel.Kernel8x16"/>: packed A [kc][8], packed B [kc][16].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x16(int kc, float* a, float* b, float* c, int ldc, in GemmEpilogue ep) =>
        Kernel8xN(kc, a, new Panel(b, 16), default, 1, c, ldc, ep);

    /// <summary>
    /// Largest run of k one sub-tile pass covers: a 128-row slice of a 32-wide B panel is 16 KiB and A's 4 KiB, so
    /// both stay in Zen 3's 32 KiB L1 across the four passes (a whole 384-deep panel, 48 KiB, would not, and the
    /// passes would stream B from L2 at ≈75% of the FMA rate instead of ≈92%).
    /// </summary>
    private const int KChunk = 128;

    /// <summary>
    /// 8 rows × (16·<paramref name="halves"/>) columns as 4×16 sub-tiles, k in chunks of <see cref="KChunk"/>: per
    /// chunk, column half <paramref name="b0"/> for rows 0–3 and 4–7, then <paramref name="b1"/> (if
    /// <paramref name="halves"/> = 2) likewise. Between chunks the accumulators wait in a stack tile — stored and
    /// reloaded as the floats they are, so each output is still one FMA chain over all of k.
    /// </summary>
    private static void Kernel8xN<TB>(int kc, float* a, TB b0, TB b1, int halves, float* c, int ldc, in GemmEpilogue ep)
        where TB : struct, IRowsB
    {
        var lower = ep.Offset(4);
        float* c4 = c + 4 * ldc;
        float* acc = null;   // [sub-tile][4 rows][16]: raw sums between chunks
        if (kc > KChunk)
        {
            float* tile = stackalloc float[8 * 32];
            acc = tile;
        }
        for (int k0 = 0; k0 < kc; k0 += KChunk)
        {
            int n = Math.Min(KChunk, kc - k0);
            float* load = k0 == 0 ? null : acc;
            float* save = k0 + n == kc ? null : acc;
            Tile4x16(n, a, b0, load, save, c, ldc, ep);
            Tile4x16(n, a + 4, b0, Tile(load, 1), Tile(save, 1), c4, ldc, lower);
            if (halves == 2)
            {
                Tile4x16(n, a, b1, Tile(load, 2), Tile(save, 2), c + 16, ldc, ep);
                Tile4x16(n, a + 4, b1, Tile(load, 3), Tile(save, 3), c4 + 16, ldc, lower);
            }
            a += 8 * n;
            b0.Skip(n);
            b1.Skip(n);
        }
    }

    /// <summary>Sub-tile <paramref name="t"/> (4×16 floats) of the stack tile, or null.</summary>
    private static float* Tile(float* acc, int t) => acc == null ? null : acc + 64 * t;

    /// <summary>
    /// C[0..4, 0..16] ⊕= α · Σ_k a[k·8 + r] · B_k[j] over k in [0, kc): rows r of the packed A panel [kc][8] starting
    /// at <paramref name="a"/>, B_k = the k-th row of <paramref name="b"/>, 16 floats.
    /// 8 accumulators in ymm registers; 4 broadcasts of A and 2 loads of B feed 8 FMAs per k.
    /// The sums start from <paramref name="load"/> (a 4×16 tile; null: 0) and, when <paramref name="save"/> is not
    /// null, go there raw instead of through the epilogue (k continues in the next chunk).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x16<TB>(int kc, float* a, TB b, float* load, float* save, float* c, int ldc, in GemmEpilogue ep)
        where TB : struct, IRowsB
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        if (load != null)
        {
            c00 = Vector256.Load(load); c01 = Vector256.Load(load + 8);
            c10 = Vector256.Load(load + 16); c11 = Vector256.Load(load + 24);
            c20 = Vector256.Load(load + 32); c21 = Vector256.Load(load + 40);
            c30 = Vector256.Load(load + 48); c31 = Vector256.Load(load + 56);
        }
        // Two k per iteration (the same FMAs in the same order) halve the loop overhead: at 2 FMAs a cycle the
        // single-k body (8 FMAs, 6 loads, pointer bumps, branch) is at the edge of Zen 3's 6-op dispatch.
        int k = 0;
        for (; k + 2 <= kc; k += 2)
        {
            float* br = b.Next();
            var b0 = Vector256.Load(br);
            var b1 = Vector256.Load(br + 8);
            var a0 = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            br = b.Next();
            b0 = Vector256.Load(br);
            b1 = Vector256.Load(br + 8);
            a0 = Vector256.Create(a[8]); c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            a1 = Vector256.Create(a[9]); c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            a2 = Vector256.Create(a[10]); c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            a3 = Vector256.Create(a[11]); c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += 16;
        }
        if (k < kc)
        {
            float* br = b.Next();
            var b0 = Vector256.Load(br);
            var b1 = Vector256.Load(br + 8);
            var a0 = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
        }
        if (save != null)
        {
            Vector256.Store(c00, save); Vector256.Store(c01, save + 8);
            Vector256.Store(c10, save + 16); Vector256.Store(c11, save + 24);
            Vector256.Store(c20, save + 32); Vector256.Store(c21, save + 40);
            Vector256.Store(c30, save + 48); Vector256.Store(c31, save + 56);
            return;
        }
        float* bias = ep.RowBias;
        Store(c00, c01, c, ep, bias == null ? 0f : bias[0]);
        Store(c10, c11, c + ldc, ep, bias == null ? 0f : bias[1]);
        Store(c20, c21, c + 2 * ldc, ep, bias == null ? 0f : bias[2]);
        Store(c30, c31, c + 3 * ldc, ep, bias == null ? 0f : bias[3]);
    }

    /// <summary>
    /// 16 outputs of one row through the epilogue of <see cref="GemmMicroKernel"/>, lane for lane: Accumulate
    /// C = fma(acc, α, C); otherwise t = acc·α, t = fma(β, C, t) when scaling by β, C = t + bias.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> acc0, Vector256<float> acc1, float* c, in GemmEpilogue ep, float bias)
    {
        var alpha = Vector256.Create(ep.Alpha);
        if (ep.Mode == GemmEpilogue.Accumulate)
        {
            Vector256.Store(Vector256.FusedMultiplyAdd(acc0, alpha, Vector256.Load(c)), c);
            Vector256.Store(Vector256.FusedMultiplyAdd(acc1, alpha, Vector256.Load(c + 8)), c + 8);
            return;
        }
        var bv = Vector256.Create(bias);
        var t0 = acc0 * alpha;
        var t1 = acc1 * alpha;
        if (ep.Mode == GemmEpilogue.ScaleBeta)
        {
            var beta = Vector256.Create(ep.Beta);
            t0 = Vector256.FusedMultiplyAdd(beta, Vector256.Load(c), t0);
            t1 = Vector256.FusedMultiplyAdd(beta, Vector256.Load(c + 8), t1);
        }
        Vector256.Store(t0 + bv, c);
        Vector256.Store(t1 + bv, c + 8);
    }
}
