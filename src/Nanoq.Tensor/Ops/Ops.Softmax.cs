namespace Nanoq;

public static partial class Ops
{
    // Tensor wrappers of Kernels.Softmax along any axis (viewed as [outer, axis, inner]).

    /// <summary>y = softmax(x) along <paramref name="axis"/>.</summary>
    public static Tensor Softmax(Tensor x, int axis)
    {
        var (o, l, i) = AroundAxis(x.Shape, axis);
        var y = Tensor.Empty(x.Shape);
        Kernels.Softmax.Forward(x.Span, o, l, i, y.Span);
        return y;
    }

    /// <summary>dx = y ⊙ (dy − Σ_axis dy ⊙ y), from the forward output y.</summary>
    public static Tensor SoftmaxBackward(Tensor y, Tensor dy, int axis)
    {
        ShapeCheck.Same(y, dy, nameof(SoftmaxBackward));
        var (o, l, i) = AroundAxis(y.Shape, axis);
        var dx = Tensor.Empty(y.Shape);
        Kernels.Softmax.Backward(y.Span, dy.Span, o, l, i, dx.Span);
        return dx;
    }

    /// <summary>y = x − log Σ_axis e^x, computed stably.</summary>
    public static Tensor LogSoftmax(Tensor x, int axis)
    {
        var (o, l, i) = AroundAxis(x.Shape, axis);
        var y = Tensor.Empty(x.Shape);
        Kernels.Softmax.LogSoftmaxForward(x.Span, o, l, i, y.Span);
        return y;
    }

    /// <summary>dx = dy − e^y Σ_axis dy, from the forward output y.</summary>
    public static Tensor LogSoftmaxBackward(Tensor y, Tensor dy, int axis)
    {
        ShapeCheck.Same(y, dy, nameof(LogSoftmaxBackward));
        var (o, l, i) = AroundAxis(y.Shape, axis);
        var dx = Tensor.Empty(y.Shape);
        Kernels.Softmax.LogSoftmaxBackward(y.Span, dy.Span, o, l, i, dx.Span);
        return dx;
    }

    /// <summary>(outer, axisLen, inner) of a row-major shape around one axis.</summary>
    public static (int Outer, int AxisLen, int Inner) AroundAxis(Shape s, int axis)
    {
        int ax = s.Axis(axis);
        return (s.SizeOf(0, ax), s.Dims[ax], s.SizeOf(ax + 1, s.Rank));
    }
}
