using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The weights of one integer fully connected layer, prepared once for <see cref="IntFullyConnected"/>: codes
/// w_q [out, in] on a k-bit grid with per-output zero points z_w[o]. Stored centered (w_q − z_w[o], which needs
/// 9 bits at k = 8) as int16 rows padded with zeros to a multiple of 32, the width of one <c>vpmaddwd</c>; the
/// input-zero-point correction needs Σ_k (w_q − z_w[o]) (<see cref="CenteredSums"/>), as for the conv.
///
/// <para>When the centered weights fit int8 and a <c>vpmaddubsw</c> pair sum cannot saturate int16 — the conv's
/// <see cref="IntConvPath.Madd16"/> condition, S = ⌊32767 / (2 · x_max · w_max)⌋ ≥ 1 — they are also kept as int8 in
/// panels of 64 outputs (<see cref="PanelsPointer"/>; <see cref="Madd16Steps"/> = S: how many steps an int16 lane may
/// sum before it is widened to int32). 4-bit weights and inputs: S = ⌊32767 / 450⌋ = 72.</para>
/// </summary>
public sealed unsafe class IntFullyConnectedWeights
{
    private readonly byte[] _codes;
    private readonly int[] _zeroPoints;
    private readonly int[] _centeredSums;
    private readonly short[] _rows;
    private readonly int[] _panels;

    private IntFullyConnectedWeights(int outFeatures, int inFeatures, int weightBits, int inputBits, byte[] codes, int[] zeroPoints,
        int[] sums, short[] rows, int rowStride, int madd16Steps)
    {
        Units = (inFeatures + 3) / 4;
        _panels = madd16Steps > 0 ? Panels(rows, rowStride, outFeatures, Units) : [];
        Madd16Steps = madd16Steps;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        WeightBits = weightBits;
        InputBits = inputBits;
        _codes = codes;
        _zeroPoints = zeroPoints;
        _centeredSums = sums;
        _rows = rows;
        RowStride = rowStride;
    }

    public int OutFeatures { get; }
    public int InFeatures { get; }
    public int WeightBits { get; }
    public int InputBits { get; }
    public ReadOnlySpan<byte> Codes => _codes;
    public ReadOnlySpan<int> ZeroPoints => _zeroPoints;
    public ReadOnlySpan<int> CenteredSums => _centeredSums;

    /// <summary>Padded row length (a multiple of 32 int16).</summary>
    internal int RowStride { get; }
    internal short* RowsPointer => (short*)Unsafe.AsPointer(ref _rows[0]);

    /// <summary>S of the class comment: <c>vpmaddubsw</c> steps an int16 lane may sum; 0 when the int8 panels are not kept.</summary>
    public int Madd16Steps { get; }

    /// <summary>Input units of 4 features (⌈in / 4⌉): the steps of the panel path.</summary>
    internal int Units { get; }

    /// <summary>
    /// The int8 rows as panels of 64 outputs for <see cref="IntFullyConnectedMicroKernels"/>: per panel, per unit k, 64
    /// ints — output j's features 4k … 4k + 3 as bytes (0 past the features and past the outputs). Kept when
    /// <see cref="Madd16Steps"/> &gt; 0.
    /// </summary>
    internal int* PanelsPointer => (int*)Unsafe.AsPointer(ref _panels[0]);

    private static int[] Panels(short[] rows, int rowStride, int outFeatures, int units)
    {
        const int panel = IntFullyConnectedMicroKernels.Panel;
        int panels = (outFeatures + panel - 1) / panel;
        var packed = GC.AllocateArray<int>(panels * units * panel, pinned: true);
        for (int o = 0; o < outFeatures; o++)
            for (int k = 0; k < units; k++)
            {
                // rows are zero-padded to a multiple of 32 ≥ 4·units: the unit's four centered weights as sbytes.
                int word = 0;
                for (int i = 0; i < 4; i++) word |= (byte)(sbyte)rows[o * rowStride + 4 * k + i] << (8 * i);
                packed[((o / panel) * units + k) * panel + o % panel] = word;
            }
        return packed;
    }

    /// <summary>
    /// Validates and packs <paramref name="codes"/> [outFeatures, inFeatures] with one zero point per output (or one for
    /// all). Throws when in · max|w_q − z_w| · (2^k_x − 1) &gt; 2^30 (the int32 accumulator could overflow with bias).
    /// </summary>
    public static IntFullyConnectedWeights Pack(int outFeatures, int inFeatures, ReadOnlySpan<byte> codes, ReadOnlySpan<int> zeroPoints,
        int weightBits, int inputBits)
    {
        if (weightBits is < 1 or > 8 || inputBits is < 1 or > 8)
            throw new ArgumentOutOfRangeException(nameof(weightBits), "IntFullyConnectedWeights: codes take 1..8 bits.");
        if (outFeatures < 1 || inFeatures < 1)
            throw new ArgumentException($"IntFullyConnectedWeights: sizes out={outFeatures}, in={inFeatures} must be positive.");
        long length = (long)outFeatures * inFeatures;
        if (codes.Length != length)
            throw new ArgumentException($"IntFullyConnectedWeights: {codes.Length} weight codes but [{outFeatures}, {inFeatures}] needs {length}.");
        if (zeroPoints.Length != outFeatures && zeroPoints.Length != 1)
            throw new ArgumentException($"IntFullyConnectedWeights: {zeroPoints.Length} zero points for {outFeatures} outputs.");
        int qmax = (1 << weightBits) - 1;
        int stride = (inFeatures + 31) & ~31;
        var rows = GC.AllocateArray<short>(outFeatures * stride, pinned: true);
        var zp = new int[outFeatures];
        var sums = new int[outFeatures];
        int maxAbs = 0;
        for (int o = 0; o < outFeatures; o++)
        {
            int z = zeroPoints.Length == 1 ? zeroPoints[0] : zeroPoints[o];
            if ((uint)z > (uint)qmax)
                throw new ArgumentOutOfRangeException(nameof(zeroPoints), $"IntFullyConnectedWeights: z_w[{o}] = {z} is off the {weightBits}-bit grid.");
            zp[o] = z;
            int sum = 0;
            for (int i = 0; i < inFeatures; i++)
            {
                int q = codes[o * inFeatures + i];
                if (q > qmax)
                    throw new ArgumentOutOfRangeException(nameof(codes), $"IntFullyConnectedWeights: weight code {q} at [{o}, {i}] is off the {weightBits}-bit grid.");
                int c = q - z;
                rows[o * stride + i] = (short)c;
                sum += c;
                int a = c < 0 ? -c : c;
                if (a > maxAbs) maxAbs = a;
            }
            sums[o] = sum;
        }
        if ((long)inFeatures * maxAbs * ((1 << inputBits) - 1) > IntConv2dWeights.MaxDotMagnitude)
            throw new ArgumentException($"IntFullyConnectedWeights: {inFeatures} terms of up to {maxAbs}·{(1 << inputBits) - 1} could overflow int32.");
        int xmax = (1 << inputBits) - 1;
        int steps = maxAbs <= 127 ? 32767 / (2 * xmax * (maxAbs > 0 ? maxAbs : 1)) : 0;
        return new IntFullyConnectedWeights(outFeatures, inFeatures, weightBits, inputBits, codes.ToArray(), zp, sums, rows, stride, steps);
    }
}
