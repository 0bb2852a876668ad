using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// Elementwise activations, forward and backward side by side, over equal-length spans (any shape; the
/// caller flattens). Forwards use <see cref="TensorPrimitives"/> where it has the op; backwards are fused
/// hand kernels on <see cref="SimdMap"/> (one pass instead of two or three TensorPrimitives calls).
/// Backward masks follow PyTorch: ReLU passes the gradient where x &gt; 0 (not at 0), ReLU6 where 0 &lt; x &lt; 6,
/// clamp where lo ≤ x ≤ hi (inclusive, as <c>clamp_backward</c>). Outputs may alias an input exactly.
/// </summary>
public static class Activations
{
    // ---- sigmoid: y = 1 / (1 + e^−x);  dx = dy · y · (1 − y) ------------------------------------------------

    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.IsEmpty && y.IsEmpty) return; // TensorPrimitives.Sigmoid rejects empty spans
        TensorPrimitives.Sigmoid(x, y);
    }

    /// <summary>dx = dy · y · (1 − y), from the forward output y (cheaper and as exact as recomputing from x).</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
        => SimdMap.Map(default(SigmoidGrad), y, dy, dx);

    // ---- tanh: dx = dy · (1 − y²) ---------------------------------------------------------------------------

    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
        => SimdMap.Map(default(TanhGrad), y, dy, dx);

    // ---- relu: y = max(x, 0);  dx = dy · [x > 0] ------------------------------------------------------------

    /// <summary>y = max(x, 0); NaN stays NaN (as PyTorch). Long spans are cut between the kernel threads.</summary>
    public static unsafe void ReluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length)
        {
            TensorPrimitives.Max(x, 0f, y);   // its own error, naming the lengths
            return;
        }
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var body = new ReluRange { X = px, Y = py };
            ElementwiseSplit.Run(x.Length, ref body);
        }
    }

    private unsafe struct ReluRange : ElementwiseSplit.IRange
    {
        public float* X, Y;

        public readonly void Run(int start, int length) =>
            TensorPrimitives.Max(new ReadOnlySpan<float>(X + start, length), 0f, new Span<float>(Y + start, length));
    }

    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
        => SimdMap.Map(new RangeMask(0f, float.PositiveInfinity, inclusive: false), x, dy, dx);

    // ---- relu6: y = min(max(x, 0), 6);  dx = dy · [0 < x < 6] ----------------------------------------------

    public static void Relu6Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Clamp(x, 0f, 6f, y);

    public static void Relu6Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
        => SimdMap.Map(new RangeMask(0f, 6f, inclusive: false), x, dy, dx);

    // ---- clamp: y = min(max(x, lo), hi);  dx = dy · [lo ≤ x ≤ hi] ------------------------------------------

    public static void ClampForward(ReadOnlySpan<float> x, float lo, float hi, Span<float> y)
    {
        if (!(lo <= hi)) throw new ArgumentException($"Clamp: lo = {lo} must not exceed hi = {hi}.");
        TensorPrimitives.Clamp(x, lo, hi, y);
    }

    public static void ClampBackward(ReadOnlySpan<float> x, float lo, float hi, ReadOnlySpan<float> dy, Span<float> dx)
        => SimdMap.Map(new RangeMask(lo, hi, inclusive: true), x, dy, dx);

    // ---- sign: y = (x > 0) − (x < 0)  (0 at ±0 and, as PyTorch's CPU kernel, at NaN) ----------------------

    public static void Sign(ReadOnlySpan<float> x, Span<float> y) => SimdMap.Map(default(SignOp), x, y);

    // ---- operator structs -----------------------------------------------------------------------------------

    private readonly struct SigmoidGrad : SimdMap.IBinary
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float y, float dy) => dy * y * (1f - y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * y * (Vector512<float>.One - y);
    }

    private readonly struct TanhGrad : SimdMap.IBinary
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float y, float dy) => dy * (1f - y * y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - y * y);
    }

    /// <summary>dx = dy where x lies in (lo, hi) (or [lo, hi] when inclusive), else 0. NaN x gives 0.</summary>
    private readonly struct RangeMask(float lo, float hi, bool inclusive) : SimdMap.IBinary
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x, float dy)
            => (inclusive ? x >= lo && x <= hi : x > lo && x < hi) ? dy : 0f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
        {
            var l = Vector256.Create(lo);
            var h = Vector256.Create(hi);
            var m = inclusive
                ? Vector256.GreaterThanOrEqual(x, l) & Vector256.LessThanOrEqual(x, h)
                : Vector256.GreaterThan(x, l) & Vector256.LessThan(x, h);
            return m & dy;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
        {
            var l = Vector512.Create(lo);
            var h = Vector512.Create(hi);
            var m = inclusive
                ? Vector512.GreaterThanOrEqual(x, l) & Vector512.LessThanOrEqual(x, h)
                : Vector512.GreaterThan(x, l) & Vector512.LessThan(x, h);
            return m & dy;
        }
    }

    private readonly struct SignOp : SimdMap.IUnary
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x) => x > 0f ? 1f : x < 0f ? -1f : 0f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x)
            => (Vector256.GreaterThan(x, Vector256<float>.Zero) & Vector256<float>.One)
             - (Vector256.LessThan(x, Vector256<float>.Zero) & Vector256<float>.One);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x)
            => (Vector512.GreaterThan(x, Vector512<float>.Zero) & Vector512<float>.One)
             - (Vector512.LessThan(x, Vector512<float>.Zero) & Vector512<float>.One);
    }
}
