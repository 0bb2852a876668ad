using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// The "phase grid" form of a convolution, which turns every im2col row into a contiguous slice of memory.
/// <para>
/// Split the zero-padded image into SH·SW phase images by the residues of its coordinates,
/// <c>phase[py, px][c, r, t] = xpad[c, r·SH + py, t·SW + px]</c>, and lay the output on a grid with Wq
/// (the phase row length) columns: <c>q = oy·Wq + ox</c>. Then
/// <code>col[(c, ky, kx), q] = xpad[c, oy·SH + ky·DH, ox·SW + kx·DW]
///                        = phase[(ky·DH) mod SH, (kx·DW) mod SW][c, oy + ⌊ky·DH/SH⌋, ox + ⌊kx·DW/SW⌋]
///                        = phaseBuffer[offset(c, ky, kx) + q]</code>
/// — each im2col row is the phase buffer shifted by a constant, so packing a GEMM panel is a plain copy, with no
/// bounds checks or index arithmetic per element. The price: Wq − OW junk columns per output row
/// ((KW − 1)·DW for stride 1: 2 of 58 for a 3×3 conv on 56 columns) that are computed and dropped (forward), or
/// multiplied by zeros (weight gradient). Stride 1 has one phase, the padded image itself.
/// </para>
/// Buffers hold a block of output rows [oy0, oy0 + rows): per used phase and channel, <c>rowsAlloc</c> phase rows of
/// Wq floats, every one written (zeros outside the image), then <see cref="Slack"/> zeros, so even junk columns and
/// panel overhang read finite numbers (0·NaN would poison the weight gradient).
/// </summary>
internal readonly unsafe struct Conv2dPhase
{
    public readonly int Cg, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
    /// <summary>Columns of the output grid and of a phase row.</summary>
    public readonly int Wq;
    /// <summary>Phase rows needed below a block of output rows: ⌊(KH − 1)·DH / SH⌋.</summary>
    public readonly int Halo;
    /// <summary>Output rows per block, so that a block has about <see cref="BlockPixels"/> grid columns.</summary>
    public readonly int BlockRows;
    public readonly int RowsAlloc;

    /// <summary>Grid columns per block: big enough to amortise the block set-up, small enough for L2.</summary>
    public const int BlockPixels = 1024;

    /// <summary>Zeros after the last phase plane: a junk column's shift plus a panel's overhang.</summary>
    public int Slack => Wq + KW * DW + 64;

    public Conv2dPhase(in Conv2dGeometry g) : this(g, 0)
    {
    }

    /// <summary>
    /// A layout whose blocks hold <paramref name="blockRows"/> output rows (0: about <see cref="BlockPixels"/> pixels),
    /// for <paramref name="channels"/> input channels (0: the whole group).
    /// </summary>
    public Conv2dPhase(in Conv2dGeometry g, int blockRows, int channels = 0)
    {
        Cg = channels > 0 ? channels : g.GroupInChannels;
        H = g.Height;
        W = g.Width;
        KH = g.KernelH;
        KW = g.KernelW;
        SH = g.StrideH;
        SW = g.StrideW;
        PH = g.PadH;
        PW = g.PadW;
        DH = g.DilationH;
        DW = g.DilationW;
        OH = g.OutHeight;
        OW = g.OutWidth;
        int wNeed = (OW - 1) * SW + (KW - 1) * DW + 1;
        Wq = (wNeed + SW - 1) / SW;
        Halo = (KH - 1) * DH / SH;
        BlockRows = blockRows > 0 ? blockRows : Math.Clamp(BlockPixels / Wq, 1, OH);
        RowsAlloc = BlockRows + Halo + 1;
    }

    /// <summary>Phases that some tap uses, along one axis: map[residue] = compact index or −1; returns the count.</summary>
    private static int UsedPhases(int k, int d, int s, int* map)
    {
        for (int r = 0; r < s; r++) map[r] = -1;
        for (int t = 0; t < k; t++) map[t * d % s] = 0;
        int count = 0;
        for (int r = 0; r < s; r++)
            if (map[r] == 0) map[r] = count++;
        return count;
    }

    /// <summary>Ints of scratch that <see cref="Offsets"/> needs for a patch of <paramref name="patch"/> taps.</summary>
    public int OffsetInts(int patch) => patch + SH + SW;

    /// <summary>Floats of a block buffer (all used phases and channels, plus slack).</summary>
    public long BufferFloats
    {
        get
        {
            int* my = stackalloc int[SH];
            int* mx = stackalloc int[SW];
            long phases = (long)UsedPhases(KH, DH, SH, my) * UsedPhases(KW, DW, SW, mx);
            return phases * Cg * RowsAlloc * Wq + Slack;
        }
    }

    /// <summary>
    /// offsets[kk] = where im2col row kk = (c·KH + ky)·KW + kx starts in a block buffer; also records the phase maps
    /// (after the offsets) for <see cref="Build"/>.
    /// </summary>
    public void Offsets(int* offsets)
    {
        int patch = Cg * KH * KW;
        int* my = offsets + patch;
        int* mx = my + SH;
        UsedPhases(KH, DH, SH, my);
        int countX = UsedPhases(KW, DW, SW, mx);
        int kk = 0;
        for (int c = 0; c < Cg; c++)
            for (int ky = 0; ky < KH; ky++)
                for (int kx = 0; kx < KW; kx++, kk++)
                {
                    int phase = my[ky * DH % SH] * countX + mx[kx * DW % SW];
                    offsets[kk] = ((phase * Cg + c) * RowsAlloc + ky * DH / SH) * Wq + kx * DW / SW;
                }
    }

    /// <summary>
    /// Fills a block buffer for output rows starting at <paramref name="oy0"/> from one group's input
    /// x[Cg, H, W] (phase maps from <see cref="Offsets"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Build(float* x, int oy0, int* offsets, float* dst)
    {
        int patch = Cg * KH * KW;
        int* my = offsets + patch;
        int* mx = my + SH;
        int countX = 0;
        for (int r = 0; r < SW; r++)
            if (mx[r] >= 0) countX++;
        for (int py = 0; py < SH; py++)
        {
            if (my[py] < 0) continue;
            for (int px = 0; px < SW; px++)
            {
                if (mx[px] < 0) continue;
                int phase = my[py] * countX + mx[px];
                for (int c = 0; c < Cg; c++)
                {
                    float* plane = x + (long)c * H * W;
                    float* outPlane = dst + (long)(phase * Cg + c) * RowsAlloc * Wq;
                    for (int r = 0; r < RowsAlloc; r++)
                    {
                        float* o = outPlane + (long)r * Wq;
                        int iy = (oy0 + r) * SH + py - PH;
                        if ((uint)iy >= (uint)H)
                        {
                            Conv2dSpan.Zero(o, Wq);
                            continue;
                        }
                        float* src = plane + (long)iy * W;
                        if (SW == 1)
                        {
                            // ix = t − PW + px is inside [0, W) for t in [lo, hi).
                            int shift = px - PW;
                            int lo = Math.Clamp(-shift, 0, Wq);
                            int hi = Math.Clamp(W - shift, lo, Wq);
                            Conv2dSpan.Zero(o, lo);
                            Conv2dSpan.Copy(src + lo + shift, o + lo, hi - lo);
                            Conv2dSpan.Zero(o + hi, Wq - hi);
                        }
                        else
                        {
                            int ix = px - PW;
                            for (int t = 0; t < Wq; t++, ix += SW) o[t] = (uint)ix < (uint)W ? src[ix] : 0f;
                        }
                    }
                }
            }
        }
        Conv2dSpan.Zero(dst + (BufferFloats - Slack), Slack);
    }

    /// <summary>
    /// dst[o·ld + r·Wq + t] = dy[o, oy0 + r, t] for t &lt; OW, 0 on the junk columns: the output gradient of one group
    /// (dy[M, OH, OW]) on the grid, for the weight gradient.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void BuildGrid(float* dy, int m, int oy0, int rows, float* dst, int ld)
    {
        for (int o = 0; o < m; o++)
            for (int r = 0; r < rows; r++)
            {
                float* d = dst + (long)o * ld + (long)r * Wq;
                Conv2dSpan.Copy(dy + ((long)o * OH + oy0 + r) * OW, d, OW);
                Conv2dSpan.Zero(d + OW, Wq - OW);
            }
    }

    /// <summary>
    /// The inverse of <see cref="Build"/> for gradients, over a whole-image buffer (block rows = OH, oy0 = 0) of one
    /// group: dx[c, iy, ix] = (or +=) buffer[phase of (iy + PH, ix + PW)][c, ⌊(iy + PH)/SH⌋, ⌊(ix + PW)/SW⌋],
    /// 0 for pixels no tap reads. Stride 1 copies rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gather(float* buffer, int* offsets, float* dx, bool add)
    {
        int patch = Cg * KH * KW;
        int* my = offsets + patch;
        int* mx = my + SH;
        int countX = 0;
        for (int r = 0; r < SW; r++)
            if (mx[r] >= 0) countX++;
        for (int c = 0; c < Cg; c++)
            for (int iy = 0; iy < H; iy++)
            {
                int py = (iy + PH) % SH, r = (iy + PH) / SH;
                bool rowOk = my[py] >= 0 && r < RowsAlloc;
                float* d = dx + ((long)c * H + iy) * W;
                if (SW == 1 && rowOk)
                {
                    // t = ix + PW for every ix; Wq ≥ W + PW is not guaranteed (right padding may be cropped).
                    float* s = buffer + ((long)(my[py] * Cg + c) * RowsAlloc + r) * Wq + PW;
                    int n = Math.Clamp(Wq - PW, 0, W);
                    if (add) Conv2dSpan.Add(s, d, n);
                    else Conv2dSpan.Copy(s, d, n);
                    if (!add) Conv2dSpan.Zero(d + n, W - n);
                    continue;
                }
                // Column phase by column phase: pixels ix ≡ px − PW (mod SW) read phase px at t = (ix + PW) / SW.
                for (int px = 0; px < SW; px++)
                {
                    int ix = ((px - PW) % SW + SW) % SW, t = (ix + PW) / SW;
                    if (rowOk && mx[px] >= 0)
                    {
                        float* s = buffer + ((long)((my[py] * countX + mx[px]) * Cg + c) * RowsAlloc + r) * Wq;
                        for (; ix < W && t < Wq; ix += SW, t++) d[ix] = add ? d[ix] + s[t] : s[t];
                    }
                    if (!add)
                        for (; ix < W; ix += SW) d[ix] = 0f;
                }
            }
    }
}
