using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The weights of one integer fully connected layer, prepared once for <see cref="IntFullyConnected"/>: codes
/// w_q [out, in] on a k-bit grid with per-output zero points z_w[o]. Stored centered (w_q − z_w[o], which needs
/// 9 bits at k = 8) as int16 rows padded with zeros to a multiple of 32, the width of one <c>vpmaddwd</c>; the
/// input-zero-point correction needs Σ_k (w_q − z_w[o]) (<see cref="CenteredSums"/>), as for the conv.
/// </summary>
public sealed unsafe class IntFullyConnectedWeights
{
    private readonly byte[] _codes;
    private readonly int[] _zeroPoints;
    private readonly int[] _centeredSums;
    private readonly short[] _rows;

    private IntFullyConnectedWeights(int outFeatures, int inFeatures, int weightBits, int inputBits, byte[] codes, int[] zeroPoints,
        int[] sums, short[] rows, int rowStride)
    {
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
        return new IntFullyConnectedWeights(outFeatures, inFeatures, weightBits, inputBits, codes.ToArray(), zp, sums, rows, stride);
    }
}
