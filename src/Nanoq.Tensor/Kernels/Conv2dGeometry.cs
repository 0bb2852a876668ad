namespace Nanoq.Kernels;

/// <summary>
/// Sizes of a 2-D convolution over NCHW tensors, validated once:
/// <list type="bullet">
/// <item>input x: [N, Cin, H, W]</item>
/// <item>weight w: [Cout, Cin / groups, KH, KW]; output channel o sees input channels of group ⌊o / (Cout / groups)⌋</item>
/// <item>bias b: [Cout] (optional)</item>
/// <item>output y: [N, Cout, OH, OW], OH = ⌊(H + 2·padH − dilH·(KH − 1) − 1) / strideH⌋ + 1 (OW likewise)</item>
/// </list>
/// y[n, o, oy, ox] = b[o] + Σ_{c, ky, kx} w[o, c, ky, kx] · x[n, g·Cin/groups + c, oy·strideH − padH + ky·dilH, ox·strideW − padW + kx·dilW],
/// with x = 0 outside the image (zero padding) — PyTorch's <c>conv2d</c>.
/// </summary>
public readonly struct Conv2dGeometry : IEquatable<Conv2dGeometry>
{
    public int Batch { get; }
    public int InChannels { get; }
    public int Height { get; }
    public int Width { get; }
    public int OutChannels { get; }
    public int KernelH { get; }
    public int KernelW { get; }
    public int StrideH { get; }
    public int StrideW { get; }
    public int PadH { get; }
    public int PadW { get; }
    public int DilationH { get; }
    public int DilationW { get; }
    public int Groups { get; }
    public int OutHeight { get; }
    public int OutWidth { get; }

    /// <summary>Square kernel, stride, padding and dilation (the common case).</summary>
    public Conv2dGeometry(int batch, int inChannels, int height, int width, int outChannels, int kernelSize,
        int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
        : this(batch, inChannels, height, width, outChannels, kernelSize, kernelSize, stride, stride,
            padding, padding, dilation, dilation, groups)
    {
    }

    /// <summary>Every size spelled out; throws <see cref="ArgumentException"/> naming the offending sizes.</summary>
    public Conv2dGeometry(int batch, int inChannels, int height, int width, int outChannels,
        int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups)
        : this(batch, inChannels, height, width, outChannels, kernelH, kernelW, strideH, strideW, padH, padW,
            dilationH, dilationW, groups, validate: true)
    {
    }

    private Conv2dGeometry(int batch, int inChannels, int height, int width, int outChannels,
        int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups,
        bool validate)
    {
        Batch = batch;
        InChannels = inChannels;
        Height = height;
        Width = width;
        OutChannels = outChannels;
        KernelH = kernelH;
        KernelW = kernelW;
        StrideH = strideH;
        StrideW = strideW;
        PadH = padH;
        PadW = padW;
        DilationH = dilationH;
        DilationW = dilationW;
        Groups = groups;
        if (validate) ValidateArguments();
        // Floor division (also right for the negative numerators that unchecked internal geometries may have).
        OutHeight = (int)Math.Floor((double)((long)height + 2L * padH - (long)dilationH * (kernelH - 1) - 1) / strideH) + 1;
        OutWidth = (int)Math.Floor((double)((long)width + 2L * padW - (long)dilationW * (kernelW - 1) - 1) / strideW) + 1;
        if (validate) ValidateOutput();
    }

    /// <summary>
    /// A geometry without the user-facing checks, for kernels that rewrite one convolution as another (the input
    /// gradient of a stride-1 conv is a conv whose padding may be negative, i.e. a crop).
    /// </summary>
    internal static Conv2dGeometry Unchecked(int batch, int inChannels, int height, int width, int outChannels,
        int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups) =>
        new(batch, inChannels, height, width, outChannels, kernelH, kernelW, strideH, strideW, padH, padW,
            dilationH, dilationW, groups, validate: false);

    /// <summary>Input channels per group.</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>Output channels per group.</summary>
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>Length of the im2col column of one output pixel in one group: (Cin / groups)·KH·KW.</summary>
    public int PatchSize => GroupInChannels * KernelH * KernelW;

    public int InputPlane => Height * Width;
    public int OutputPlane => OutHeight * OutWidth;
    public int InputLength => checked(Batch * InChannels * Height * Width);
    public int OutputLength => checked(Batch * OutChannels * OutHeight * OutWidth);
    public int WeightLength => checked(OutChannels * GroupInChannels * KernelH * KernelW);

    /// <summary>Depthwise with channel multiplier 1: groups = Cin = Cout (handled by the direct depthwise kernel).</summary>
    public bool IsDepthwise => Groups > 1 && Groups == InChannels && OutChannels == InChannels;

    /// <summary>1×1, stride 1, no padding: the image itself is the im2col matrix.</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;

    /// <summary>Floating-point operations of the forward pass (2 per multiply-add, bias excluded).</summary>
    public double ForwardFlops => 2.0 * Batch * OutChannels * OutputPlane * PatchSize;

    private void ValidateArguments()
    {
        if (Batch < 0 || InChannels < 0 || OutChannels < 0)
            throw new ArgumentException($"Conv2d: batch={Batch}, in_channels={InChannels}, out_channels={OutChannels} must be non-negative.");
        if (Height < 1 || Width < 1)
            throw new ArgumentException($"Conv2d: input size {Height}x{Width} must be at least 1x1.");
        if (KernelH < 1 || KernelW < 1)
            throw new ArgumentException($"Conv2d: kernel size {KernelH}x{KernelW} must be at least 1x1.");
        if (StrideH < 1 || StrideW < 1)
            throw new ArgumentException($"Conv2d: stride {StrideH}x{StrideW} must be at least 1.");
        if (DilationH < 1 || DilationW < 1)
            throw new ArgumentException($"Conv2d: dilation {DilationH}x{DilationW} must be at least 1.");
        if (PadH < 0 || PadW < 0)
            throw new ArgumentException($"Conv2d: padding {PadH}x{PadW} must be non-negative.");
        if (Groups < 1)
            throw new ArgumentException($"Conv2d: groups={Groups} must be at least 1.");
        if (InChannels % Groups != 0 || OutChannels % Groups != 0)
            throw new ArgumentException($"Conv2d: in_channels={InChannels} and out_channels={OutChannels} must both be divisible by groups={Groups}.");
    }

    private void ValidateOutput()
    {
        if (OutHeight < 1 || OutWidth < 1)
        {
            int effH = DilationH * (KernelH - 1) + 1, effW = DilationW * (KernelW - 1) + 1;
            throw new ArgumentException(
                $"Conv2d: kernel {KernelH}x{KernelW} with dilation {DilationH}x{DilationW} (effective {effH}x{effW}) does not fit " +
                $"input {Height}x{Width} with padding {PadH}x{PadW} (padded {Height + 2 * PadH}x{Width + 2 * PadW}); output would be {OutHeight}x{OutWidth}.");
        }
        _ = InputLength;
        _ = OutputLength;
        _ = WeightLength;
    }

    /// <summary>Throws when a span's length differs from what the geometry requires.</summary>
    internal void CheckLength(string what, int actual, int expected)
    {
        if (actual != expected)
            throw new ArgumentException($"Conv2d: {what} has {actual} elements but {this} needs {expected}.");
    }

    public bool Equals(Conv2dGeometry other) =>
        Batch == other.Batch && InChannels == other.InChannels && Height == other.Height && Width == other.Width &&
        OutChannels == other.OutChannels && KernelH == other.KernelH && KernelW == other.KernelW &&
        StrideH == other.StrideH && StrideW == other.StrideW && PadH == other.PadH && PadW == other.PadW &&
        DilationH == other.DilationH && DilationW == other.DilationW && Groups == other.Groups;

    public override bool Equals(object? obj) => obj is Conv2dGeometry g && Equals(g);

    public override int GetHashCode() => HashCode.Combine(
        HashCode.Combine(Batch, InChannels, Height, Width, OutChannels),
        HashCode.Combine(KernelH, KernelW, StrideH, StrideW, PadH, PadW, DilationH, DilationW), Groups);

    public static bool operator ==(Conv2dGeometry left, Conv2dGeometry right) => left.Equals(right);

    public static bool operator !=(Conv2dGeometry left, Conv2dGeometry right) => !left.Equals(right);

    public override string ToString() =>
        $"conv2d x[{Batch}, {InChannels}, {Height}, {Width}] * w[{OutChannels}, {GroupInChannels}, {KernelH}, {KernelW}] " +
        $"stride {StrideH}x{StrideW} pad {PadH}x{PadW} dilation {DilationH}x{DilationW} groups {Groups} -> y[{Batch}, {OutChannels}, {OutHeight}, {OutWidth}]";
}
