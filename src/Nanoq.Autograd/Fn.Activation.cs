using Nanoq.Kernels;

namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>y = max(x, 0). Backward: g where x &gt; 0, else 0 (PyTorch's choice at exactly 0).</summary>
    public static Var Relu(Var x)
    {
        var y = Ops.Relu(x.Value);
        var r = Var.Op(y, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            Activations.ReluBackward(x.Value.Span, o.Grad!.Span, dx.Span);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
        OpTrace.Op("relu", r, [x]);
        return r;
    }

    /// <summary>y = min(max(x, 0), 6). Backward: g where 0 &lt; x &lt; 6, else 0.</summary>
    public static Var Relu6(Var x)
    {
        var y = Ops.Relu6(x.Value);
        var r = Var.Op(y, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            Activations.Relu6Backward(x.Value.Span, o.Grad!.Span, dx.Span);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
        OpTrace.Op("relu6", r, [x]);
        return r;
    }

    /// <summary>y = σ(x) = 1 / (1 + e^(−x)). Backward: g · y (1 − y).</summary>
    public static Var Sigmoid(Var x)
    {
        var y = Ops.Sigmoid(x.Value);
        return Var.Op(y, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            Activations.SigmoidBackward(o.Value.Span, o.Grad!.Span, dx.Span);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }
}
