namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>y = Σ x (a one-element tensor of shape [1]).</summary>
    public static Var Sum(Var x)
    {
        var y = Tensor.FromArray([Ops.SumAll(x.Value)], 1);
        return Var.Op(y, [x], o => x.AccumulateGrad(Tensor.Full(x.Shape, o.Grad!.Span[0]), takeOwnership: true));
    }

    /// <summary>y = (1/n) Σ x; the mean of an empty tensor is 0 here (PyTorch gives NaN), so empty batches do not poison a loss.</summary>
    public static Var Mean(Var x)
    {
        int n = x.Value.Size;
        var y = Tensor.FromArray([n == 0 ? 0f : Ops.SumAll(x.Value) / n], 1);
        return Var.Op(y, [x], o => x.AccumulateGrad(Tensor.Full(x.Shape, n == 0 ? 0f : o.Grad!.Span[0] / n), takeOwnership: true));
    }

    /// <summary>Sum along <paramref name="axis"/>. Backward broadcasts g back along the axis.</summary>
    public static Var Sum(Var x, int axis, bool keepDim = false)
    {
        var y = Ops.Sum(x.Value, axis, keepDim);
        return Var.Op(y, [x], o =>
        {
            var g = keepDim ? o.Grad! : o.Grad!.Reshape(x.Shape.With(axis, 1).ToArray());
            var dx = Tensor.Zeros(x.Shape);
            Ops.AddInPlace(dx, g);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }

    /// <summary>Mean along <paramref name="axis"/>.</summary>
    public static Var Mean(Var x, int axis, bool keepDim = false)
    {
        int n = x.Shape[axis];
        return Scale(Sum(x, axis, keepDim), n == 0 ? 0f : 1f / n);
    }
}
