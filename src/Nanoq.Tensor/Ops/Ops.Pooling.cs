using Nanoq.Kernels;

namespace Nanoq;

public static partial class Ops
{
    // Tensor wrappers of Kernels.Pooling2d and Kernels.Upsample2d: x is [n, c, h, w] (NCHW).

    /// <summary>
    /// Max pooling (PyTorch semantics, floor mode, −∞ padding): [n, c, h, w] → [n, c, oh, ow],
    /// o = (i + 2·pad − kernel) / stride + 1. argmax (flat index in the input plane, one per output element) comes from
    /// <see cref="TensorPool.RentInt"/>; give it back with <see cref="TensorPool.Return(int[])"/> after the backward.
    /// </summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride, int pad, out int[] argmax)
    {
        var (n, c, h, w) = Nchw(x, nameof(MaxPool2d));
        int oh = Pooling2d.OutputSize(h, kernel, stride, pad), ow = Pooling2d.OutputSize(w, kernel, stride, pad);
        var y = Tensor.Empty(n, c, oh, ow);
        argmax = TensorPool.RentInt(y.Size);
        Pooling2d.MaxPool2dForward(x.Span, n, c, h, w, kernel, stride, pad, y.Span, argmax);
        return y;
    }

    /// <summary>Max pooling without keeping the argmax (inference).</summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride, int pad)
    {
        var y = MaxPool2d(x, kernel, stride, pad, out var argmax);
        TensorPool.Return(argmax);
        return y;
    }

    /// <summary>dy: [n, c, oh, ow] → dx: inputShape [n, c, h, w], dx[argmax] += dy.</summary>
    public static Tensor MaxPool2dBackward(Tensor dy, int[] argmax, Shape inputShape, int kernel, int stride, int pad)
    {
        var (n, c, h, w) = Nchw(inputShape, nameof(MaxPool2dBackward));
        CheckPooledShape(dy.Shape, inputShape, kernel, stride, pad, nameof(MaxPool2dBackward));
        var dx = Tensor.Empty(inputShape);
        Pooling2d.MaxPool2dBackward(dy.Span, argmax.AsSpan(0, dy.Size), n, c, h, w, kernel, stride, pad, dx.Span);
        return dx;
    }

    /// <summary>Average pooling, count_include_pad = true (divides by kernel²): [n, c, h, w] → [n, c, oh, ow].</summary>
    public static Tensor AvgPool2d(Tensor x, int kernel, int stride, int pad)
    {
        var (n, c, h, w) = Nchw(x, nameof(AvgPool2d));
        int oh = Pooling2d.OutputSize(h, kernel, stride, pad), ow = Pooling2d.OutputSize(w, kernel, stride, pad);
        var y = Tensor.Empty(n, c, oh, ow);
        Pooling2d.AvgPool2dForward(x.Span, n, c, h, w, kernel, stride, pad, y.Span);
        return y;
    }

    /// <summary>dy: [n, c, oh, ow] → dx: inputShape; each window's inputs receive dy / kernel².</summary>
    public static Tensor AvgPool2dBackward(Tensor dy, Shape inputShape, int kernel, int stride, int pad)
    {
        var (n, c, h, w) = Nchw(inputShape, nameof(AvgPool2dBackward));
        CheckPooledShape(dy.Shape, inputShape, kernel, stride, pad, nameof(AvgPool2dBackward));
        var dx = Tensor.Empty(inputShape);
        Pooling2d.AvgPool2dBackward(dy.Span, n, c, h, w, kernel, stride, pad, dx.Span);
        return dx;
    }

    /// <summary>Global average pooling: [n, c, h, w] → [n, c].</summary>
    public static Tensor GlobalAvgPool(Tensor x)
    {
        var (n, c, h, w) = Nchw(x, nameof(GlobalAvgPool));
        var y = Tensor.Empty(n, c);
        Pooling2d.GlobalAvgPoolForward(x.Span, n, c, h, w, y.Span);
        return y;
    }

    /// <summary>dy: [n, c] → dx: inputShape [n, c, h, w], dx = dy / (h·w).</summary>
    public static Tensor GlobalAvgPoolBackward(Tensor dy, Shape inputShape)
    {
        var (n, c, h, w) = Nchw(inputShape, nameof(GlobalAvgPoolBackward));
        if (dy.Shape != new Shape(n, c))
            throw new ArgumentException($"GlobalAvgPoolBackward: gradient shape {dy.Shape} does not match input shape {inputShape}.");
        var dx = Tensor.Empty(inputShape);
        Pooling2d.GlobalAvgPoolBackward(dy.Span, n, c, h, w, dx.Span);
        return dx;
    }

    /// <summary>Nearest upsampling by an integer factor: [n, c, h, w] → [n, c, h·scale, w·scale].</summary>
    public static Tensor UpsampleNearest2d(Tensor x, int scale)
    {
        var (n, c, h, w) = Nchw(x, nameof(UpsampleNearest2d));
        var y = Tensor.Empty(n, c, h * scale, w * scale);
        Upsample2d.NearestForward(x.Span, n, c, h, w, scale, y.Span);
        return y;
    }

    /// <summary>dy: [n, c, h·scale, w·scale] → dx: [n, c, h, w], summing each scale×scale block.</summary>
    public static Tensor UpsampleNearest2dBackward(Tensor dy, int scale)
    {
        var (n, c, oh, ow) = Nchw(dy, nameof(UpsampleNearest2dBackward));
        if (scale <= 0 || oh % scale != 0 || ow % scale != 0)
            throw new ArgumentException($"UpsampleNearest2dBackward: gradient shape {dy.Shape} is not a multiple of scale {scale}.");
        var dx = Tensor.Empty(n, c, oh / scale, ow / scale);
        Upsample2d.NearestBackward(dy.Span, n, c, oh / scale, ow / scale, scale, dx.Span);
        return dx;
    }

    /// <summary>Nearest upsampling to an explicit size with PyTorch's 'nearest' index rule: [n, c, h, w] → [n, c, outH, outW].</summary>
    public static Tensor UpsampleNearest2d(Tensor x, int outH, int outW)
    {
        var (n, c, h, w) = Nchw(x, nameof(UpsampleNearest2d));
        var y = Tensor.Empty(n, c, outH, outW);
        Upsample2d.NearestForward(x.Span, n, c, h, w, outH, outW, y.Span);
        return y;
    }

    /// <summary>dy: [n, c, outH, outW] → dx: inputShape [n, c, h, w], dx[src] += dy.</summary>
    public static Tensor UpsampleNearest2dBackward(Tensor dy, Shape inputShape)
    {
        var (n, c, h, w) = Nchw(inputShape, nameof(UpsampleNearest2dBackward));
        var (dn, dc, oh, ow) = Nchw(dy, nameof(UpsampleNearest2dBackward));
        if (dn != n || dc != c)
            throw new ArgumentException($"UpsampleNearest2dBackward: gradient shape {dy.Shape} does not match input shape {inputShape}.");
        var dx = Tensor.Empty(inputShape);
        Upsample2d.NearestBackward(dy.Span, n, c, h, w, oh, ow, dx.Span);
        return dx;
    }

    private static (int N, int C, int H, int W) Nchw(Tensor t, string op) => Nchw(t.Shape, op);

    private static (int N, int C, int H, int W) Nchw(Shape s, string op)
    {
        if (s.Rank != 4) throw new ArgumentException($"{op}: expected an NCHW tensor of rank 4, got shape {s}.");
        return (s.Dims[0], s.Dims[1], s.Dims[2], s.Dims[3]);
    }

    private static void CheckPooledShape(Shape dy, Shape input, int kernel, int stride, int pad, string op)
    {
        int oh = Pooling2d.OutputSize(input.Dims[2], kernel, stride, pad), ow = Pooling2d.OutputSize(input.Dims[3], kernel, stride, pad);
        if (dy != new Shape(input.Dims[0], input.Dims[1], oh, ow))
            throw new ArgumentException($"{op}: gradient shape {dy} does not match input shape {input} pooled to [{input.Dims[0]}, {input.Dims[1]}, {oh}, {ow}].");
    }
}
