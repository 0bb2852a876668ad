using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The weights of a 3 × 3 integer conv transformed for Winograd's F(2 × 2, 3 × 3) (<see cref="IntConv2dWinograd"/>):
/// <code>
///     U'_ξ[o][c] = ((2G) g (2G)ᵀ)_ξ = 4 · (G g Gᵀ)_ξ,   g = w_q[o][c] − z_w[o] (3 × 3),   2G = [2 0 0; 1 1 1; 1 −1 1; 0 0 2]
/// </code>
/// for the 16 points ξ = 4a + b — integers, so the whole algorithm stays exact. U' is the s8 operand of
/// <c>vpmaddubsw</c>; the transformed input V' (u8, in [0, 4·x_max]) the other. Exists only where every U' fits s8 and
/// a 16-bit sum of a step fits int16 (<see cref="TryCreate"/>): |U'| ≤ 9 · max|g|, which is ≤ 126 for every 4-bit grid whose zero
/// point is not an end of the grid (z_w ∈ [1, 14]: a channel of one-signed weights may not fit).
/// <para>
/// Packed like <see cref="IntConv2dWeights"/>' "A" with one tap: [channel block][ξ][channel unit][channel in block],
/// 4 s8 input channels per int32 unit.
/// </para>
/// </summary>
public sealed unsafe class IntWinogradWeights
{
    /// <summary>Winograd points of F(2 × 2, 3 × 3): a 4 × 4 input patch.</summary>
    public const int Points = 16;

    private readonly int[] _packed;
    private readonly int[] _corrections;
    private readonly int[] _pointSteps;

    private IntWinogradWeights(int[] packed, int[] corrections, int[] pointSteps, int maxAbs, int inputOffset)
    {
        _packed = packed;
        _corrections = corrections;
        _pointSteps = pointSteps;
        MaxAbsTransformed = maxAbs;
        InputOffset = inputOffset;
    }

    /// <summary>max |U'| over all points and channel pairs.</summary>
    public int MaxAbsTransformed { get; }

    /// <summary>
    /// S_ξ per point: the most steps whose 16-bit sums stay in int16 for <em>these</em> weights and any input
    /// (<see cref="Steps"/>). The worst case of any 4-bit weights would allow 2 at the middle points (|U'| ≤ 126); trained
    /// weights, most near their zero point, allow many more, and each widen costs a <c>vpmaddwd</c> on the multiplier.
    /// </summary>
    public ReadOnlySpan<int> PointSteps => _pointSteps;

    /// <summary>
    /// 2·x_max: what the input transform adds to every point but the all-positive one (a = b = 1), so that every V' is an
    /// unsigned byte in [0, 4·x_max] — its points are x_q sums with two +1 and two −1 coefficients, or four +1.
    /// </summary>
    public int InputOffset { get; }

    /// <summary>
    /// −(Aᵀ K A)_ij per output channel and output pixel ij of a 2 × 2 tile, [C_out][4]: K_ξ[o] = offset_ξ · Σ_c U'_ξ[o][c]
    /// is what the input offset adds to M_ξ, removed after the output transform.
    /// </summary>
    public ReadOnlySpan<int> Corrections => _corrections;

    internal int* PackedPointer => (int*)Unsafe.AsPointer(ref _packed[0]);
    internal int* CorrectionsPointer => (int*)Unsafe.AsPointer(ref _corrections[0]);
    internal int* PointStepsPointer => (int*)Unsafe.AsPointer(ref _pointSteps[0]);

    /// <summary>
    /// The largest S ≤ 16 (and ≤ the channel units) such that, for every output channel and each of a unit's two 16-bit
    /// lanes (input channels 4k + 2h and 4k + 2h + 1), every aligned window of S steps sums within int16 whatever the
    /// input: V' ∈ [0, <paramref name="vmax"/>], so a lane's sum lies in [vmax·Σ min(U', 0), vmax·Σ max(U', 0)] over the
    /// window's terms. Windows start at 0, S, 2S, … as the micro-kernel's do. For 4-bit inputs S = 1 always holds
    /// (|pair| ≤ 2·60·127); wider inputs may not even allow one step, and then there is no transform (0). Beyond 16 a
    /// widen costs under 1/16 of the products, not worth a longer search.
    /// </summary>
    private static int Steps(int[] u, int xi, int outChannels, int inChannels, int units, int vmax)
    {
        // The bounds of each (channel, lane, step): high[(o·2 + h)·units + k], low likewise.
        var high = new long[outChannels * 2 * units];
        var low = new long[outChannels * 2 * units];
        for (int o = 0; o < outChannels; o++)
            for (int c = 0; c < inChannels; c++)
            {
                int v = u[(o * inChannels + c) * Points + xi];
                int i = (o * 2 + (c >> 1 & 1)) * units + (c >> 2);
                if (v > 0) high[i] += (long)vmax * v;
                else low[i] += (long)vmax * v;
            }
        for (int s = units < 16 ? units : 16; s > 0; s--)
            if (Fits(high, low, outChannels * 2, units, s)) return s;
        return 0;   // one step already leaves int16 (wide inputs and large U'): no transform
    }

    private static bool Fits(long[] high, long[] low, int lanes, int units, int steps)
    {
        for (int lane = 0; lane < lanes; lane++)
            for (int k0 = 0; k0 < units; k0 += steps)
            {
                long hi = 0, lo = 0;
                for (int k = k0; k < k0 + steps && k < units; k++)
                {
                    hi += high[lane * units + k];
                    lo += low[lane * units + k];
                }
                if (hi > short.MaxValue || lo < short.MinValue) return false;
            }
        return true;
    }

    /// <summary>(2G)·(g0, g1, g2) = (2g0, g0 + g1 + g2, g0 − g1 + g2, 2g2), into dst[at + i·stride].</summary>
    private static void Apply2G(int g0, int g1, int g2, Span<int> dst, int at, int stride)
    {
        dst[at] = 2 * g0;
        dst[at + stride] = g0 + g1 + g2;
        dst[at + 2 * stride] = g0 - g1 + g2;
        dst[at + 3 * stride] = 2 * g2;
    }

    /// <summary>
    /// U' of <paramref name="centered"/> ([C_out][C_in][3][3], w_q − z_w), or null where the transform cannot run exactly
    /// on bytes: input codes wider than 6 bits (V' needs 4·x_max ≤ 255), a U' outside s8, a pair sum outside int16, or an
    /// output transform that could leave int32.
    /// </summary>
    internal static IntWinogradWeights? TryCreate(ReadOnlySpan<int> centered, int outChannels, int inChannels, int inputBits,
        int channelBlocks, int channelUnits)
    {
        int xmax = (1 << inputBits) - 1;
        if (4 * xmax > 255) return null;
        var u = new int[outChannels * inChannels * Points];   // [o][c][ξ]
        int maxAbs = 0;
        Span<int> t = stackalloc int[12];   // T = (2G) g: 4 rows × 3 columns, at [3a + j]
        for (int oc = 0; oc < outChannels * inChannels; oc++)
        {
            var g = centered.Slice(oc * 9, 9);
            for (int j = 0; j < 3; j++) Apply2G(g[j], g[3 + j], g[6 + j], t, j, 3);
            // U' = T (2G)ᵀ: the same combination along T's rows.
            var uc = u.AsSpan(oc * Points, Points);
            for (int a = 0; a < 4; a++) Apply2G(t[3 * a], t[3 * a + 1], t[3 * a + 2], uc, 4 * a, 1);
            foreach (int v in uc)
            {
                int abs = v < 0 ? -v : v;
                if (abs > maxAbs) maxAbs = abs;
            }
        }
        if (maxAbs > 127) return null;
        // Aᵀ M A sums 9 of the int32 products M (each within C_in · 4·x_max · max|U'|) plus the correction: keep it in int32.
        if (9L * inChannels * 4 * xmax * maxAbs * 2 > int.MaxValue) return null;
        var pointSteps = new int[Points];
        for (int xi = 0; xi < Points; xi++)
        {
            pointSteps[xi] = Steps(u, xi, outChannels, inChannels, channelUnits, 4 * xmax);
            if (pointSteps[xi] == 0) return null;
        }
        int offset = 2 * xmax;

        const int block = IntConv2dWeights.BlockChannels;
        var packed = GC.AllocateArray<int>(channelBlocks * Points * channelUnits * block, pinned: true);
        var corrections = new int[outChannels * 4];
        Span<long> k = stackalloc long[Points];
        Span<long> s = stackalloc long[4];
        for (int o = 0; o < outChannels; o++)
        {
            int cb = o / block, m = o % block;
            k.Clear();
            for (int xi = 0; xi < Points; xi++)
                for (int c = 0; c < inChannels; c++)
                {
                    int v = u[(o * inChannels + c) * Points + xi];
                    k[xi] += v;
                    int unit = c / 4, j = c % 4;
                    ref int p = ref packed[((cb * Points + xi) * channelUnits + unit) * block + m];
                    p |= (v & 0xFF) << (8 * j);
                }
            for (int xi = 0; xi < Points; xi++) k[xi] *= xi == 5 ? 0 : offset;
            // Aᵀ K A with Aᵀ = [1 1 1 0; 0 1 −1 −1]: rows first, then columns.
            for (int i = 0; i < 2; i++)
            {
                for (int b = 0; b < 4; b++)
                    s[b] = i == 0 ? k[b] + k[4 + b] + k[8 + b] : k[4 + b] - k[8 + b] - k[12 + b];
                corrections[o * 4 + 2 * i] = checked((int)-(s[0] + s[1] + s[2]));
                corrections[o * 4 + 2 * i + 1] = checked((int)-(s[1] - s[2] - s[3]));
            }
        }
        return new IntWinogradWeights(packed, corrections, pointSteps, maxAbs, offset);
    }
}
