using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The weights of one integer conv, prepared once (offline or at model load) for <see cref="IntConv2d"/>:
/// codes w_q ∈ [0, 2^k − 1] of shape [C_out, C_in / groups, KH, KW] with per-output-channel zero points z_w[c]
/// (DESIGN.md §5: asymmetric unsigned, like the activations).
/// <para>
/// Why centered weights: the kernels compute Σ (w_q − z_w[c]) · x_q with the input codes x_q as they are, and subtract
/// z_x · Σ (w_q − z_w[c]) afterwards — the zero-point trick with one correction term instead of gemmlowp's four,
/// because the weight zero point is folded into the weights here. The identity
/// <code>
///     Σ (w_q − z_w)(x_q − z_x) = Σ (w_q − z_w) · x_q − z_x · Σ (w_q − z_w)
/// </code>
/// holds for every output pixel because padding reads the code z_x (real 0), so every patch has all K terms.
/// w_q − z_w ∈ [−255, 255] fits int8 only for k ≤ 7 (or 8-bit weights whose range happens to), which decides the
/// kernel (<see cref="IntConvPath"/>).
/// </para>
/// <para>
/// Packed layout (GEMM "A"): 32-bit units of U consecutive input channels of one tap — U = 4 s8 for the u8×s8 paths,
/// U = 2 s16 for <see cref="IntConvPath.Int16"/> — ordered [group][channel block of <see cref="BlockChannels"/>][tap]
/// [channel unit][channel in block], so the kernel broadcasts one unit per output channel and steps through taps and
/// channel units in the same order as the interleaved input. Channels past C_in / groups or C_out / groups are zero.
/// </para>
/// </summary>
public sealed unsafe class IntConv2dWeights
{
    /// <summary>Output channels a micro-kernel computes at once (MR).</summary>
    public const int BlockChannels = 4;

    /// <summary>Largest |Σ (w_q − z_w)(x_q − z_x)| allowed, so bias can still be added inside int32.</summary>
    public const long MaxDotMagnitude = 1L << 30;

    private readonly byte[] _codes;
    private readonly int[] _zeroPoints;
    private readonly int[] _centered;
    private readonly int[] _centeredSums;
    private readonly int[] _packed;

    private IntConv2dWeights(int outChannels, int groupInChannels, int kernelH, int kernelW, int groups, int weightBits,
        int inputBits, byte[] codes, int[] zeroPoints, int[] centered, int[] centeredSums, int maxAbs, IntConvPath path)
    {
        OutChannels = outChannels;
        GroupInChannels = groupInChannels;
        KernelH = kernelH;
        KernelW = kernelW;
        Groups = groups;
        WeightBits = weightBits;
        InputBits = inputBits;
        _codes = codes;
        _zeroPoints = zeroPoints;
        _centered = centered;
        _centeredSums = centeredSums;
        MaxAbsCentered = maxAbs;
        Path = path;
        int xmax = (1 << inputBits) - 1;
        long pair = 2L * xmax * maxAbs;
        StepsPerWiden = pair == 0 ? int.MaxValue : (int)(short.MaxValue / pair);
        UnitChannels = path == IntConvPath.Int16 ? 2 : 4;
        ChannelUnits = (groupInChannels + UnitChannels - 1) / UnitChannels;
        ChannelBlocks = (GroupOutChannels + BlockChannels - 1) / BlockChannels;
        _packed = path is IntConvPath.Int16 or IntConvPath.Madd16 or IntConvPath.Vnni or IntConvPath.VnniEmulated ? Pack() : [];
        if (path == IntConvPath.Madd16 && groups == 1 && kernelH == 3 && kernelW == 3)
            Winograd = IntWinogradWeights.TryCreate(centered, outChannels, groupInChannels, inputBits, ChannelBlocks, ChannelUnits);
    }

    /// <summary>
    /// The F(2 × 2, 3 × 3) transform of these weights (<see cref="IntConv2dWinograd"/>), or null: made for 3 × 3 convs of one
    /// group on the <see cref="IntConvPath.Madd16"/> path whose transformed weights fit s8 (the stride is the geometry's,
    /// checked per call).
    /// </summary>
    public IntWinogradWeights? Winograd { get; }

    public int OutChannels { get; }
    public int GroupInChannels { get; }
    public int KernelH { get; }
    public int KernelW { get; }
    public int Groups { get; }
    public int GroupOutChannels => OutChannels / Groups;
    public int InChannels => GroupInChannels * Groups;

    /// <summary>k of the weight codes.</summary>
    public int WeightBits { get; }

    /// <summary>k of the input codes this layer accepts (x_q ≤ 2^k − 1; <see cref="IntConvPath.Madd16"/> relies on it).</summary>
    public int InputBits { get; }

    /// <summary>The kernel chosen (never <see cref="IntConvPath.Auto"/>).</summary>
    public IntConvPath Path { get; }

    /// <summary>max over all weights of |w_q − z_w[c]|.</summary>
    public int MaxAbsCentered { get; }

    /// <summary>S of <see cref="IntConvPath.Madd16"/>: ⌊32767 / (2 · x_max · max|w_q − z_w|)⌋ (int.MaxValue for all-zero weights).</summary>
    public int StepsPerWiden { get; }

    /// <summary>K = (C_in / groups) · KH · KW, the terms of one dot product.</summary>
    public int PatchSize => GroupInChannels * KernelH * KernelW;

    public bool IsDepthwise => Groups > 1 && Groups == InChannels && OutChannels == InChannels;

    /// <summary>The codes as given, [C_out, C_in / groups, KH, KW].</summary>
    public ReadOnlySpan<byte> Codes => _codes;

    /// <summary>z_w[c], one per output channel.</summary>
    public ReadOnlySpan<int> ZeroPoints => _zeroPoints;

    /// <summary>w_q − z_w[c] in the codes' order.</summary>
    public ReadOnlySpan<int> Centered => _centered;

    /// <summary>Σ_k (w_q − z_w[c]) per output channel: the input zero point's correction is −z_x times this.</summary>
    public ReadOnlySpan<int> CenteredSums => _centeredSums;

    internal int UnitChannels { get; }
    internal int ChannelUnits { get; }
    internal int ChannelBlocks { get; }
    internal int[] Packed => _packed;

    /// <summary>
    /// Validates and packs. <paramref name="codes"/>: [outChannels, inChannels / groups, kernelH, kernelW] codes on the
    /// <paramref name="weightBits"/> grid; <paramref name="zeroPoints"/>: one per output channel (or one for all).
    /// <paramref name="inputBits"/>: the k of the activations this conv will read. Throws when the int32 accumulator could
    /// overflow (K · max|w_q − z_w| · (2^k_x − 1) &gt; 2^30) or a requested path is invalid for these weights or this CPU.
    /// </summary>
    public static IntConv2dWeights Pack(int outChannels, int inChannels, int kernelH, int kernelW, int groups,
        ReadOnlySpan<byte> codes, ReadOnlySpan<int> zeroPoints, int weightBits, int inputBits, IntConvPath path = IntConvPath.Auto)
    {
        CheckBits(weightBits, nameof(weightBits));
        CheckBits(inputBits, nameof(inputBits));
        if (outChannels < 1 || inChannels < 1 || kernelH < 1 || kernelW < 1 || groups < 1)
            throw new ArgumentException($"IntConv2dWeights: sizes out={outChannels}, in={inChannels}, kernel={kernelH}x{kernelW}, groups={groups} must be positive.");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"IntConv2dWeights: in_channels={inChannels} and out_channels={outChannels} must both be divisible by groups={groups}.");
        int cinG = inChannels / groups;
        int k = cinG * kernelH * kernelW;
        long length = (long)outChannels * k;
        if (codes.Length != length)
            throw new ArgumentException($"IntConv2dWeights: {codes.Length} weight codes but [{outChannels}, {cinG}, {kernelH}, {kernelW}] needs {length}.");
        if (zeroPoints.Length != outChannels && zeroPoints.Length != 1)
            throw new ArgumentException($"IntConv2dWeights: {zeroPoints.Length} zero points for {outChannels} output channels (give one per channel, or one).");
        int qmax = (1 << weightBits) - 1;
        var zp = new int[outChannels];
        var centered = new int[length];
        var sums = new int[outChannels];
        int maxAbs = 0;
        for (int o = 0; o < outChannels; o++)
        {
            int z = zeroPoints.Length == 1 ? zeroPoints[0] : zeroPoints[o];
            if ((uint)z > (uint)qmax)
                throw new ArgumentOutOfRangeException(nameof(zeroPoints), $"IntConv2dWeights: z_w[{o}] = {z} is off the {weightBits}-bit grid [0, {qmax}].");
            zp[o] = z;
            int sum = 0;
            for (int i = o * k; i < (o + 1) * k; i++)
            {
                int q = codes[i];
                if (q > qmax)
                    throw new ArgumentOutOfRangeException(nameof(codes), $"IntConv2dWeights: weight code {q} at index {i} is off the {weightBits}-bit grid [0, {qmax}].");
                int c = q - z;
                centered[i] = c;
                sum += c;
                int a = c < 0 ? -c : c;
                if (a > maxAbs) maxAbs = a;
            }
            sums[o] = sum;
        }
        int xmax = (1 << inputBits) - 1;
        if ((long)k * maxAbs * xmax > MaxDotMagnitude)
            throw new ArgumentException(
                $"IntConv2dWeights: K={k} terms of up to {maxAbs}·{xmax} could exceed 2^30 in the int32 accumulator; split the conv.");
        bool depthwise = groups > 1 && groups == inChannels && outChannels == inChannels;
        var chosen = Choose(path, depthwise, maxAbs, xmax);
        return new IntConv2dWeights(outChannels, cinG, kernelH, kernelW, groups, weightBits, inputBits,
            codes.ToArray(), zp, centered, sums, maxAbs, chosen);
    }

    private static void CheckBits(int bits, string name)
    {
        if (bits is < 1 or > 8) throw new ArgumentOutOfRangeException(name, bits, "IntConv2dWeights: codes take 1..8 bits.");
    }

    private static IntConvPath Choose(IntConvPath path, bool depthwise, int maxAbs, int xmax)
    {
        bool simd = Simd.IsVector;
        bool fitsS8 = maxAbs <= 127;
        long pair = 2L * xmax * maxAbs;
        long steps = pair == 0 ? long.MaxValue : short.MaxValue / pair;
        switch (path)
        {
            case IntConvPath.Auto:
                if (!simd) return IntConvPath.Reference;
                if (depthwise) return IntConvPath.Depthwise;
                if (fitsS8 && steps >= 2) return IntConvPath.Madd16;
                if (fitsS8 && AvxVnni.IsSupported && Simd.Is512) return IntConvPath.Vnni;
                return IntConvPath.Int16;
            case IntConvPath.Reference:
                return path;
            case IntConvPath.Depthwise:
                if (!depthwise) throw new ArgumentException("IntConv2dWeights: the depthwise path needs groups = in_channels = out_channels.");
                RequireSimd(path);
                return path;
            case IntConvPath.Int16:
                RequireSimd(path);
                return path;
            case IntConvPath.Madd16:
                RequireSimd(path);
                if (!fitsS8 || steps < 1)
                    throw new ArgumentException($"IntConv2dWeights: Madd16 needs max|w_q − z_w| ≤ 127 and 2·{xmax}·{maxAbs} ≤ 32767.");
                return path;
            case IntConvPath.Vnni:
                // The VNNI micro-kernel holds 16 accumulators and 4 loads of b: 21 registers, which only AVX-512's 32
                // ymm registers hold without spilling; a CPU with AVX-VNNI and no AVX-512 (Alder Lake) takes Madd16.
                Require512(path);
                if (!AvxVnni.IsSupported) throw new NotSupportedException("IntConv2dWeights: this CPU (or runtime) has no AVX-VNNI.");
                if (!fitsS8) throw new ArgumentException($"IntConv2dWeights: VNNI needs max|w_q − z_w| ≤ 127, got {maxAbs}.");
                return path;
            case IntConvPath.VnniEmulated:
                Require512(path);
                if (!fitsS8) throw new ArgumentException($"IntConv2dWeights: VNNI needs max|w_q − z_w| ≤ 127, got {maxAbs}.");
                return path;
            default:
                throw new ArgumentOutOfRangeException(nameof(path), path, "IntConv2dWeights: unknown path.");
        }
    }

    private static void RequireSimd(IntConvPath path)
    {
        if (!Simd.IsVector) throw new NotSupportedException($"IntConv2dWeights: the {path} path needs AVX2 (Simd.Level is {Simd.Level}).");
    }

    private static void Require512(IntConvPath path)
    {
        if (!Simd.Is512) throw new NotSupportedException($"IntConv2dWeights: the {path} path needs AVX-512BW (Simd.Level is {Simd.Level}).");
    }

    /// <summary>Throws unless <paramref name="g"/> has this layer's channels, kernel and groups.</summary>
    public void CheckGeometry(in Conv2dGeometry g)
    {
        if (g.OutChannels != OutChannels || g.InChannels != InChannels || g.KernelH != KernelH || g.KernelW != KernelW || g.Groups != Groups)
            throw new ArgumentException(
                $"IntConv2d: weights [{OutChannels}, {GroupInChannels}, {KernelH}, {KernelW}] groups {Groups} do not match {g}.");
    }

    private int[] Pack()
    {
        int u = UnitChannels, cu = ChannelUnits, cb = ChannelBlocks, taps = KernelH * KernelW;
        int coutG = GroupOutChannels, cinG = GroupInChannels, k = PatchSize;
        var packed = GC.AllocateArray<int>(Groups * cb * taps * cu * BlockChannels, pinned: true);
        for (int g = 0; g < Groups; g++)
            for (int b = 0; b < cb; b++)
                for (int t = 0; t < taps; t++)
                    for (int unit = 0; unit < cu; unit++)
                        for (int m = 0; m < BlockChannels; m++)
                        {
                            int oLocal = b * BlockChannels + m;
                            int value = 0;
                            if (oLocal < coutG)
                            {
                                int o = g * coutG + oLocal;
                                for (int j = 0; j < u; j++)
                                {
                                    int ci = unit * u + j;
                                    if (ci >= cinG) break;
                                    int w = _centered[o * k + ci * taps + t];
                                    value |= u == 4 ? (w & 0xFF) << (8 * j) : (w & 0xFFFF) << (16 * j);
                                }
                            }
                            packed[(((g * cb + b) * taps + t) * cu + unit) * BlockChannels + m] = value;
                        }
        return packed;
    }

    /// <summary>Pointer to the pinned packed units (valid for this object's lifetime).</summary>
    internal int* PackedPointer => (int*)Unsafe.AsPointer(ref _packed[0]);
}
