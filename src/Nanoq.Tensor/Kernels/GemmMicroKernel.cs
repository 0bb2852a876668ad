using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// Register-blocked SGEMM micro-kernels: an 8×32 tile (16 zmm accumulators) and an 8×16 tile for narrow
/// right edges. Measured on the development machine (AMD EPYC family 25 model 17, i.e. Zen 4, 2 cores; see
/// benchmarks/README.md): one 512-bit FMA retires per cycle and core
/// (≈117 GFLOP/s at 3.66 GHz; 256-bit FMAs retire two a cycle, the same rate), so the tile only needs enough
/// independent accumulators to cover the 4-cycle FMA latency and few enough loads per FMA; 8×32 runs at
/// ≈98% of that peak from L1, 8×48 and 12×32 measured no faster, and MR = 8 divides the channel counts of
/// the networks (64, 128, ...). Partial tiles are computed in full into a stack tile and merged by
/// <see cref="StoreEdge"/> with the same arithmetic, so results do not depend on tile position.
/// </summary>
/// <remarks>
/// <c>Vector512.Create(a[r])</c> compiles to <c>vbroadcastss zmm, [mem]</c>; the loop body is 2 loads,
/// 8 broadcasts and 16 FMAs with no spills (checked with <c>DOTNET_JitDisasm</c>).
/// <c>Vector512.FusedMultiplyAdd</c> is one <c>vfmadd231ps</c> on AVX-512 hardware and a correct (slow)
/// emulation elsewhere, so the code stays portable. At <see cref="SimdLevel.Avx2"/> each kernel runs its
/// <see cref="GemmMicroKernel256"/> form instead (4×16 ymm sub-tiles, the same bits).
/// The α multiply is kept even when α = 1 (exact), so there is one code path.
/// </remarks>
internal static unsafe class GemmMicroKernel
{
    public const int MR = 8;
    public const int NR = 32;

    /// <summary>
    /// Whether the 256-bit forms run: at <see cref="SimdLevel.Avx2"/>. The <c>Vector512</c> code below is the
    /// AVX-512 form and, emulated, the portable one.
    /// </summary>
    private static bool Uses256 => !Simd.Is512 && Simd.IsVector;

    /// <summary>
    /// C[0..8, 0..32] ⊕= α · Σ_k a[k·8 + r] · b[k·32 + j] over k in [0, kc): packed A panel [kc][8], packed B panel [kc][32].
    /// 16 accumulators in zmm registers; one broadcast of A and 2 loads of B feed 16 FMAs per k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, in GemmEpilogue ep)
    {
        if (Uses256)
        {
            GemmMicroKernel256.Kernel8x32(kc, a, b, c, ldc, ep);
            return;
        }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            a += 8;
            b += 32;
        }
        var alpha = Vector512.Create(ep.Alpha);
        if (ep.Mode == GemmEpilogue.Accumulate)
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(c00, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c01, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c10, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c11, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c20, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c21, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c30, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c31, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c40, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c41, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c50, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c51, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c60, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c61, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c70, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c71, alpha, Vector512.Load(c + 16)), c + 16);
        }
        else
        {
            float* bias = ep.RowBias;
            bool useBeta = ep.Mode == GemmEpilogue.ScaleBeta;
            var beta = Vector512.Create(ep.Beta);
            { var bv = Vector512.Create(bias == null ? 0f : bias[0]);
              var t0 = c00 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c01 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[1]);
              var t0 = c10 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c11 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[2]);
              var t0 = c20 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c21 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[3]);
              var t0 = c30 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c31 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[4]);
              var t0 = c40 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c41 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[5]);
              var t0 = c50 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c51 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[6]);
              var t0 = c60 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c61 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[7]);
              var t0 = c70 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c71 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
        }
    }

    /// <summary>
    /// The 8×32 kernel with B read in place instead of from a packed panel: row k of B is the 32 floats at
    /// b + rows[k] (the shifted rows of a convolution's phase buffer, see <see cref="Conv2dPhase"/>), which saves
    /// packing B at all.
    /// 16 accumulators in zmm registers; one broadcast of A and 2 loads of B feed 16 FMAs per k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x32Rows(int kc, float* a, float* b, int* rows, float* c, int ldc, in GemmEpilogue ep)
    {
        if (Uses256)
        {
            GemmMicroKernel256.Kernel8x32Rows(kc, a, b, rows, c, ldc, ep);
            return;
        }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            float* br = b + rows[k];
            var b0 = Vector512.Load(br);
            var b1 = Vector512.Load(br + 16);
            var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            a += 8;
        }
        var alpha = Vector512.Create(ep.Alpha);
        if (ep.Mode == GemmEpilogue.Accumulate)
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(c00, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c01, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c10, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c11, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c20, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c21, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c30, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c31, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c40, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c41, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c50, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c51, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c60, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c61, alpha, Vector512.Load(c + 16)), c + 16);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c70, alpha, Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(c71, alpha, Vector512.Load(c + 16)), c + 16);
        }
        else
        {
            float* bias = ep.RowBias;
            bool useBeta = ep.Mode == GemmEpilogue.ScaleBeta;
            var beta = Vector512.Create(ep.Beta);
            { var bv = Vector512.Create(bias == null ? 0f : bias[0]);
              var t0 = c00 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c01 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[1]);
              var t0 = c10 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c11 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[2]);
              var t0 = c20 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c21 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[3]);
              var t0 = c30 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c31 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[4]);
              var t0 = c40 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c41 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[5]);
              var t0 = c50 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c51 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[6]);
              var t0 = c60 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c61 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[7]);
              var t0 = c70 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
              var t1 = c71 * alpha; if (useBeta) t1 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 16), t1); Vector512.Store(t1 + bv, c + 16);
            }
        }
    }

    /// <summary>
    /// C[0..8, 0..16] ⊕= α · Σ_k a[k·8 + r] · b[k·16 + j] over k in [0, kc): packed A panel [kc][8], packed B panel [kc][16].
    /// 8 accumulators in zmm registers; one broadcast of A and 1 loads of B feed 8 FMAs per k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x16(int kc, float* a, float* b, float* c, int ldc, in GemmEpilogue ep)
    {
        if (Uses256)
        {
            GemmMicroKernel256.Kernel8x16(kc, a, b, c, ldc, ep);
            return;
        }
        Vector512<float> c00 = default, c10 = default, c20 = default, c30 = default, c40 = default, c50 = default, c60 = default, c70 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b + 0);
            var a0 = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            var a1 = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            var a2 = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            var a3 = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            var a4 = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            var a5 = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            var a6 = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            var a7 = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            a += 8;
            b += 16;
        }
        var alpha = Vector512.Create(ep.Alpha);
        if (ep.Mode == GemmEpilogue.Accumulate)
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(c00, alpha, Vector512.Load(c + 0)), c + 0);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c10, alpha, Vector512.Load(c + 0)), c + 0);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c20, alpha, Vector512.Load(c + 0)), c + 0);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c30, alpha, Vector512.Load(c + 0)), c + 0);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c40, alpha, Vector512.Load(c + 0)), c + 0);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c50, alpha, Vector512.Load(c + 0)), c + 0);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c60, alpha, Vector512.Load(c + 0)), c + 0);
            c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c70, alpha, Vector512.Load(c + 0)), c + 0);
        }
        else
        {
            float* bias = ep.RowBias;
            bool useBeta = ep.Mode == GemmEpilogue.ScaleBeta;
            var beta = Vector512.Create(ep.Beta);
            { var bv = Vector512.Create(bias == null ? 0f : bias[0]);
              var t0 = c00 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[1]);
              var t0 = c10 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[2]);
              var t0 = c20 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[3]);
              var t0 = c30 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[4]);
              var t0 = c40 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[5]);
              var t0 = c50 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[6]);
              var t0 = c60 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
            c += ldc;
            { var bv = Vector512.Create(bias == null ? 0f : bias[7]);
              var t0 = c70 * alpha; if (useBeta) t0 = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c + 0), t0); Vector512.Store(t0 + bv, c + 0);
            }
        }
    }

    /// <summary>
    /// A partial tile (<paramref name="mr"/> ≤ 8 rows, <paramref name="nr"/> ≤ <paramref name="panelWidth"/>
    /// columns): the full kernel writes into a stack tile, then the valid part is merged into C element by
    /// element with the scalar twin of the vector epilogue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void KernelEdge(int kc, float* a, float* b, int panelWidth, float* c, int ldc, int mr, int nr, in GemmEpilogue ep)
    {
        float* tile = stackalloc float[MR * NR];
        var raw = new GemmEpilogue(1f, 0f, null, GemmEpilogue.Overwrite);
        if (panelWidth == NR) Kernel8x32(kc, a, b, tile, NR, raw);
        else Kernel8x16(kc, a, b, tile, NR, raw);
        StoreEdge(tile, NR, c, ldc, mr, nr, ep);
    }

    /// <summary>Scalar epilogue over an <paramref name="mr"/>×<paramref name="nr"/> block of raw accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void StoreEdge(float* acc, int ldAcc, float* c, int ldc, int mr, int nr, in GemmEpilogue ep)
    {
        float alpha = ep.Alpha, beta = ep.Beta;
        for (int r = 0; r < mr; r++)
        {
            float* cr = c + (long)r * ldc;
            float* ar = acc + r * ldAcc;
            if (ep.Mode == GemmEpilogue.Accumulate)
            {
                for (int j = 0; j < nr; j++) cr[j] = MathF.FusedMultiplyAdd(ar[j], alpha, cr[j]);
            }
            else
            {
                float bias = ep.RowBias == null ? 0f : ep.RowBias[r];
                bool useBeta = ep.Mode == GemmEpilogue.ScaleBeta;
                for (int j = 0; j < nr; j++)
                {
                    float t = ar[j] * alpha;
                    if (useBeta) t = MathF.FusedMultiplyAdd(beta, cr[j], t);
                    cr[j] = t + bias;
                }
            }
        }
    }
}
