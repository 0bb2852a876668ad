using System.Numerics.Tensors;
using Nanoq.Kernels;

namespace Nanoq;

public static partial class Ops
{
    // ---- binary, broadcasting (NumPy rules) -------------------------------------------------------------------

    /// <summary>y = a + b, broadcast.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary<AddKernel>(a, b, nameof(Add));

    /// <summary>y = a − b, broadcast.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary<SubKernel>(a, b, nameof(Sub));

    /// <summary>y = a · b, broadcast.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary<MulKernel>(a, b, nameof(Mul));

    /// <summary>y = a / b, broadcast (IEEE: x/0 = ±∞, 0/0 = NaN).</summary>
    public static Tensor Div(Tensor a, Tensor b) => Binary<DivKernel>(a, b, nameof(Div));

    /// <summary>y = max(a, b), broadcast; NaN propagates (torch.maximum).</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary<MaxKernel>(a, b, nameof(Maximum));

    /// <summary>y = min(a, b), broadcast; NaN propagates (torch.minimum).</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary<MinKernel>(a, b, nameof(Minimum));

    // ---- with a scalar ----------------------------------------------------------------------------------------

    /// <summary>y = t + s.</summary>
    public static Tensor Add(Tensor t, float s) => Map(t, s, static (x, s, y) => TensorPrimitives.Add(x, s, y));

    /// <summary>y = t · s.</summary>
    public static Tensor Mul(Tensor t, float s) => Map(t, s, static (x, s, y) => TensorPrimitives.Multiply(x, s, y));

    // ---- unary ------------------------------------------------------------------------------------------------

    public static Tensor Neg(Tensor t) => Map(t, static (x, y) => TensorPrimitives.Negate(x, y));
    public static Tensor Exp(Tensor t) => Map(t, static (x, y) => TensorPrimitives.Exp(x, y));
    /// <summary>Natural log; log 0 = −∞, log of a negative = NaN.</summary>
    public static Tensor Log(Tensor t) => Map(t, static (x, y) => TensorPrimitives.Log(x, y));
    public static Tensor Sqrt(Tensor t) => Map(t, static (x, y) => TensorPrimitives.Sqrt(x, y));
    public static Tensor Abs(Tensor t) => Map(t, static (x, y) => TensorPrimitives.Abs(x, y));
    /// <summary>y = t².</summary>
    public static Tensor Square(Tensor t) => Map(t, static (x, y) => TensorPrimitives.Multiply(x, x, y));
    /// <summary>y = max(t, 0).</summary>
    public static Tensor Relu(Tensor t) => Map(t, static (x, y) => Activations.ReluForward(x, y));
    /// <summary>y = min(max(t, 0), 6).</summary>
    public static Tensor Relu6(Tensor t) => Map(t, static (x, y) => Activations.Relu6Forward(x, y));
    /// <summary>y = 1 / (1 + e^−t).</summary>
    public static Tensor Sigmoid(Tensor t) => Map(t, static (x, y) => Activations.SigmoidForward(x, y));
    public static Tensor Tanh(Tensor t) => Map(t, static (x, y) => Activations.TanhForward(x, y));
    /// <summary>y = (t &gt; 0) − (t &lt; 0): −1, 0 or 1 (0 at ±0 and NaN, as PyTorch's CPU kernel).</summary>
    public static Tensor Sign(Tensor t) => Map(t, static (x, y) => Activations.Sign(x, y));

    /// <summary>y = min(max(t, lo), hi); needs lo ≤ hi.</summary>
    public static Tensor Clamp(Tensor t, float lo, float hi)
    {
        var y = Tensor.Empty(t.Shape);
        Activations.ClampForward(t.Span, lo, hi, y.Span);
        return y;
    }

    // ---- activation backwards (dx from the saved forward input x or output y) -------------------------------

    /// <summary>dx = dy · [x &gt; 0].</summary>
    public static Tensor ReluBackward(Tensor x, Tensor dy) => Map2(x, dy, static (a, b, y) => Activations.ReluBackward(a, b, y), nameof(ReluBackward));
    /// <summary>dx = dy · [0 &lt; x &lt; 6].</summary>
    public static Tensor Relu6Backward(Tensor x, Tensor dy) => Map2(x, dy, static (a, b, y) => Activations.Relu6Backward(a, b, y), nameof(Relu6Backward));
    /// <summary>dx = dy · y (1 − y), y = sigmoid(x).</summary>
    public static Tensor SigmoidBackward(Tensor y, Tensor dy) => Map2(y, dy, static (a, b, o) => Activations.SigmoidBackward(a, b, o), nameof(SigmoidBackward));
    /// <summary>dx = dy · (1 − y²), y = tanh(x).</summary>
    public static Tensor TanhBackward(Tensor y, Tensor dy) => Map2(y, dy, static (a, b, o) => Activations.TanhBackward(a, b, o), nameof(TanhBackward));

    /// <summary>dx = dy · [lo ≤ x ≤ hi] (PyTorch's clamp_backward).</summary>
    public static Tensor ClampBackward(Tensor x, Tensor dy, float lo, float hi)
    {
        ShapeCheck.Same(x, dy, nameof(ClampBackward));
        var dx = Tensor.Empty(x.Shape);
        Activations.ClampBackward(x.Span, lo, hi, dy.Span, dx.Span);
        return dx;
    }

    // ---- in place ---------------------------------------------------------------------------------------------

    /// <summary>dst += src, with src broadcast to dst's shape (the gradient-accumulation primitive).</summary>
    public static void AddInPlace(Tensor dst, Tensor src) => InPlace<AddKernel>(dst, src, nameof(AddInPlace));

    /// <summary>dst −= src, src broadcast to dst.</summary>
    public static void SubInPlace(Tensor dst, Tensor src) => InPlace<SubKernel>(dst, src, nameof(SubInPlace));

    /// <summary>dst ·= src, src broadcast to dst.</summary>
    public static void MulInPlace(Tensor dst, Tensor src) => InPlace<MulKernel>(dst, src, nameof(MulInPlace));

    /// <summary>t ·= s.</summary>
    public static void ScaleInPlace(Tensor t, float s) => TensorPrimitives.Multiply(t.Span, s, t.Span);

    /// <summary>t += s.</summary>
    public static void AddInPlace(Tensor t, float s) => TensorPrimitives.Add(t.Span, s, t.Span);

    /// <summary>y += α·x (BLAS axpy), same shape.</summary>
    public static void Axpy(float alpha, Tensor x, Tensor y)
    {
        ShapeCheck.Same(x, y, nameof(Axpy));
        TensorPrimitives.MultiplyAdd(x.Span, alpha, y.Span, y.Span);
    }

    /// <summary>dst ← src, same shape.</summary>
    public static void CopyTo(Tensor src, Tensor dst)
    {
        ShapeCheck.Same(src, dst, nameof(CopyTo));
        src.Span.CopyTo(dst.Span);
    }

    /// <summary>t ← min(max(t, lo), hi).</summary>
    public static void ClampInPlace(Tensor t, float lo, float hi) => Activations.ClampForward(t.Span, lo, hi, t.Span);

    private static void InPlace<TK>(Tensor dst, Tensor src, string op) where TK : struct, IBinaryKernel
    {
        if (BroadcastShape(dst.Shape, src.Shape, op) != dst.Shape)
            throw new ArgumentException($"{op}: source shape {src.Shape} does not broadcast to destination shape {dst.Shape}.");
        BinaryInto<TK>(dst, src, dst);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);
    private delegate void SpanMapScalar(ReadOnlySpan<float> x, float s, Span<float> y);
    private delegate void SpanMap2(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

    // Static lambdas are cached delegates: no allocation per call beyond the result tensor.
    private static Tensor Map(Tensor t, SpanMap f)
    {
        var y = Tensor.Empty(t.Shape);
        f(t.Span, y.Span);
        return y;
    }

    private static Tensor Map(Tensor t, float s, SpanMapScalar f)
    {
        var y = Tensor.Empty(t.Shape);
        f(t.Span, s, y.Span);
        return y;
    }

    private static Tensor Map2(Tensor a, Tensor b, SpanMap2 f, string op)
    {
        ShapeCheck.Same(a, b, op);
        var y = Tensor.Empty(a.Shape);
        f(a.Span, b.Span, y.Span);
        return y;
    }
}
