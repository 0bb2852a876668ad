using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// The im2col matrix of a whole batch as the GEMM's right operand, packed straight from the images:
/// <code>op(B)[kk, j] = x[n, c, oy·SH + ky·DH − PH, ox·SW + kx·DW − PW]   (0 outside the image)
/// kk = (c·KH + ky)·KW + kx,   j = n·P + oy·OW + ox,   P = OH·OW</code>
/// Unlike the phase grid (<see cref="Conv2dPhase"/>) it has no junk columns and its columns run across images, so
/// small maps (7 × 7: 49 pixels, two 32-wide strips with 15 columns wasted) fill whole panels and one packed A
/// block serves the whole batch. A 16-column half-panel is a few runs of one output row each; with stride 1 along rows
/// a run's sources are consecutive, so each run is one masked load whose lanes land where the run sits in the panel
/// (masked-off lanes are never read, so a run hanging over the image's edge reads nothing outside it).
/// At <see cref="SimdLevel.Avx2"/> a 16-column row is two 8-lane halves of <c>vmaskmovps</c> loads, which zero the
/// lanes off the mask: OR-ing a row's disjoint runs together gives the same bits as the 512-bit merging loads (a copy
/// either way).
/// </summary>
internal readonly unsafe struct Conv2dPackBIm2col : IGemmPackB
{
    private readonly float* _x;
    private readonly int _h, _w, _kh, _kw, _sh, _ph, _pw, _dh, _dw, _ow, _plane, _imageFloats;

    /// <summary>Needs a vector level and stride 1 along rows (<see cref="Conv2dBatchedGemm.Suits"/>): its runs are masked loads.</summary>
    public Conv2dPackBIm2col(float* x, in Conv2dGeometry g)
    {
        if (!Simd.IsVector || g.StrideW != 1)
            throw new NotSupportedException("Conv2dPackBIm2col packs runs with AVX2 or AVX-512 masked loads, for stride 1 along rows.");
        _x = x;
        _h = g.Height;
        _w = g.Width;
        _kh = g.KernelH;
        _kw = g.KernelW;
        _sh = g.StrideH;
        _ph = g.PadH;
        _pw = g.PadW;
        _dh = g.DilationH;
        _dw = g.DilationW;
        _ow = g.OutWidth;
        _plane = g.OutputPlane;
        _imageFloats = g.InChannels * g.InputPlane;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int j0, int nc, int p0, int kc)
    {
        var runs = new Runs();
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            float* d = dst + (long)jr * kc;
            for (int half = 0; half < w; half += 16)
            {
                FindRuns(j0 + jr + half, Math.Clamp(nr - half, 0, 16), ref runs);
                PackRows(d + half, w, p0, kc, ref runs);
            }
        }
    }

    /// <summary>A block of at most 16 columns as runs of one output row each.</summary>
    internal struct Runs
    {
        public int Count;
        /// <summary>First lane, length, and the source row and column of the first pixel for tap (0, 0).</summary>
        public fixed int Start[16], Length[16], Iy0[16], Ix0[16];
        /// <summary>Where that source would be in x (may lie outside the image).</summary>
        public fixed long Origin[16];
    }

    /// <summary>The runs of columns [j, j + cols), cols ≤ 16.</summary>
    internal void FindRuns(int j, int cols, ref Runs runs)
    {
        runs.Count = 0;
        for (int lane = 0; lane < cols;)
        {
            int n = (j + lane) / _plane, p = j + lane - n * _plane, oy = p / _ow, ox = p - oy * _ow;
            int len = Math.Min(cols - lane, _ow - ox), r = runs.Count++;
            runs.Start[r] = lane;
            runs.Length[r] = len;
            runs.Iy0[r] = oy * _sh - _ph;
            runs.Ix0[r] = ox - _pw;
            runs.Origin[r] = (long)n * _imageFloats + (long)runs.Iy0[r] * _w + runs.Ix0[r];
            lane += len;
        }
    }

    /// <summary>
    /// Rows [p0, p0 + kc) of a block of 16 columns (<paramref name="runs"/>), row r at d + (r − p0)·<paramref name="w"/>.
    /// Tap by tap: a tap's runs and lane masks are the same for every input channel, which only moves the sources
    /// by a plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void PackRows(float* d, int w, int p0, int kc, ref Runs runs)
    {
        int taps = _kh * _kw, end = p0 + kc;
        long planeFloats = (long)_h * _w;
        bool is512 = Simd.Is512;
        var iota = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var masks = stackalloc Vector512<float>[16];
        float** sources = stackalloc float*[16];
        for (int t = 0; t < taps; t++)
        {
            int ky = t / _kw, kx = t - ky * _kw;
            int c = p0 <= t ? 0 : (p0 - t + taps - 1) / taps;
            int kk = c * taps + t;
            if (kk >= end) continue;
            int valid = 0;
            for (int r = 0; r < runs.Count; r++)
            {
                if ((uint)(runs.Iy0[r] + ky * _dh) >= (uint)_h) continue;
                // Lanes start + i for i in [lo, hi) read x columns ix0 + kx·DW + i, inside [0, W).
                int ix = runs.Ix0[r] + kx * _dw;
                int lo = Math.Max(0, -ix), hi = Math.Min(runs.Length[r], _w - ix);
                if (hi <= lo) continue;
                // Built with 256-bit compares when AVX-512 is off (Vector512's are emulated there), the same lanes.
                var first = runs.Start[r] + lo;
                var last = runs.Start[r] + hi;
                masks[valid] = is512
                    ? (Vector512.GreaterThanOrEqual(iota, Vector512.Create(first)) & Vector512.LessThan(iota, Vector512.Create(last))).AsSingle()
                    : Vector512.Create(
                        (Vector256.GreaterThanOrEqual(iota.GetLower(), Vector256.Create(first)) & Vector256.LessThan(iota.GetLower(), Vector256.Create(last))).AsSingle(),
                        (Vector256.GreaterThanOrEqual(iota.GetUpper(), Vector256.Create(first)) & Vector256.LessThan(iota.GetUpper(), Vector256.Create(last))).AsSingle());
                sources[valid] = _x + runs.Origin[r] + (long)ky * _dh * _w + (long)kx * _dw - runs.Start[r] + c * planeFloats;
                valid++;
            }
            float* row = d + (long)(kk - p0) * w;
            if (is512)
            {
                for (; kk < end; kk += taps, row += (long)taps * w)
                {
                    var v = Vector512<float>.Zero;
                    for (int i = 0; i < valid; i++)
                    {
                        v = Avx512F.MaskLoad(sources[i], masks[i], v);
                        sources[i] += planeFloats;
                    }
                    Vector512.Store(v, row);
                }
            }
            else
            {
                for (; kk < end; kk += taps, row += (long)taps * w)
                {
                    Vector256<float> v0 = Vector256<float>.Zero, v1 = Vector256<float>.Zero;
                    for (int i = 0; i < valid; i++)
                    {
                        // Runs own disjoint lanes and the loads zero the others, so OR merges them exactly.
                        v0 |= Avx.MaskLoad(sources[i], masks[i].GetLower());
                        v1 |= Avx.MaskLoad(sources[i] + 8, masks[i].GetUpper());
                        sources[i] += planeFloats;
                    }
                    Vector256.Store(v0, row);
                    Vector256.Store(v1, row + 8);
                }
            }
        }
    }
}
