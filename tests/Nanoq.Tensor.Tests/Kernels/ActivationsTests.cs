using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>Every activation kernel against a scalar double loop over lengths 0..256 (all SIMD widths and tails).</summary>
public class ActivationsTests
{
    private delegate void Fwd(ReadOnlySpan<float> x, Span<float> y);
    private delegate void Bwd(ReadOnlySpan<float> a, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>Inputs in [−2, 8] with exact 0, 6, −0 sprinkled in, so mask boundaries are hit.</summary>
    private static float[] Inputs(Rng rng, int n)
    {
        var x = Data.Uniform(rng, n, -2f, 8f);
        for (int i = 0; i < n; i += 7) x[i] = (i / 7 % 4) switch { 0 => 0f, 1 => 6f, 2 => -0f, _ => 1f };
        return x;
    }

    private static void Forward(Fwd f, Func<double, double> reference, double rtol = 1e-6, double atol = 1e-7)
    {
        var rng = new Rng(7);
        for (int n = 0; n <= 256; n++)
        {
            var x = Inputs(rng, n);
            var y = new float[n];
            f(x, y);
            Check.Close(x.Select(v => reference(v)).ToArray(), y, rtol, atol, $"n={n}");
            // In place: y aliases x exactly.
            f(x, x);
            Check.Same(y, x, $"in place n={n}");
        }
    }

    private static void Backward(Bwd f, Func<double, double, double> reference, Func<float[], float[]>? from = null)
    {
        var rng = new Rng(8);
        for (int n = 0; n <= 256; n++)
        {
            var a = Inputs(rng, n);
            if (from != null) a = from(a);
            var dy = Data.Uniform(rng, n);
            var dx = new float[n];
            f(a, dy, dx);
            Check.Close(a.Zip(dy, (u, g) => reference(u, g)).ToArray(), dx, 1e-6, 1e-7, $"n={n}");
            f(a, dy, dy); // dx aliases dy
            Check.Same(dx, dy, $"aliased n={n}");
        }
    }

    [Fact] public void Relu() => Forward(Activations.ReluForward, x => Math.Max(x, 0));
    [Fact] public void Relu_backward_passes_where_x_is_positive() => Backward(Activations.ReluBackward, (x, g) => x > 0 ? g : 0);
    [Fact] public void Relu6() => Forward(Activations.Relu6Forward, x => Math.Min(Math.Max(x, 0), 6));
    [Fact] public void Relu6_backward_passes_strictly_inside() => Backward(Activations.Relu6Backward, (x, g) => x > 0 && x < 6 ? g : 0);
    [Fact] public void Sigmoid() => Forward(Activations.SigmoidForward, x => 1 / (1 + Math.Exp(-x)));
    [Fact] public void Tanh() => Forward(Activations.TanhForward, Math.Tanh, 1e-5, 1e-6);
    [Fact] public void Sign() => Forward(Activations.Sign, x => Math.Sign(x));

    [Fact]
    public void Sigmoid_backward_from_output()
        => Backward(Activations.SigmoidBackward, (y, g) => g * y * (1 - y), x => x.Select(v => 1f / (1f + MathF.Exp(-v))).ToArray());

    [Fact]
    public void Tanh_backward_from_output()
        => Backward(Activations.TanhBackward, (y, g) => g * (1 - y * y), x => x.Select(MathF.Tanh).ToArray());

    [Fact]
    public void Clamp_and_its_inclusive_backward()
    {
        Forward((x, y) => Activations.ClampForward(x, 0f, 6f, y), x => Math.Clamp(x, 0, 6));
        Backward((x, g, d) => Activations.ClampBackward(x, 0f, 6f, g, d), (x, g) => x >= 0 && x <= 6 ? g : 0);
        Assert.Throws<ArgumentException>(() => Activations.ClampForward(new float[1], 2f, 1f, new float[1]));
    }

    [Fact]
    public void Nan_handling_follows_pytorch()
    {
        float[] x = [float.NaN, 1f, -1f, 0f, -0f, 7f];
        var y = new float[x.Length];
        Activations.ReluForward(x, y);
        Assert.True(float.IsNaN(y[0])); // relu(NaN) = NaN
        Activations.Sign(x, y);
        Assert.Equal([0f, 1f, -1f, 0f, 0f, 1f], y); // sign(NaN) = 0, sign(±0) = 0
        Activations.Relu6Forward(x, y);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(6f, y[5]);
        Activations.ReluBackward(x, [5, 5, 5, 5, 5, 5], y);
        Assert.Equal([0f, 5f, 0f, 0f, 0f, 5f], y); // masks are 0 at NaN and at 0
    }
}

/// <summary>
/// Passes long enough to be cut between the kernel threads (<see cref="ElementwiseSplit"/>) give the bits of the same
/// pass on the calling thread alone, at a length that is no multiple of the cut's 16-float grain.
/// </summary>
public class ElementwiseSplitTests
{
    [Fact]
    public void Long_passes_split_between_threads_equal_one_thread()
    {
        int n = ElementwiseSplit.MinParallelElements * 3 + 5;
        var rng = new Rng(11);
        var x = Data.Uniform(rng, n, -2f, 8f);
        var dy = Data.Uniform(rng, n, -1f, 1f);
        var a = Tensor.FromArray(x, n);
        var b = Tensor.FromArray(dy, n);
        float[][] Run()
        {
            var relu = new float[n];
            var mask = new float[n];
            var sign = new float[n];
            Activations.ReluForward(x, relu);
            Activations.ReluBackward(x, dy, mask);
            Activations.Sign(x, sign);
            using var sum = Nanoq.Ops.Add(a, b);
            return [relu, mask, sign, sum.ToArray()];
        }
        var one = Threads.With(1, Run);
        var three = Threads.With(3, Run);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], three[i]);
        // And the split pass is the definition, element by element.
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(Math.Max(x[i], 0f), three[0][i]);
            Assert.Equal(x[i] > 0f ? dy[i] : 0f, three[1][i]);
            Assert.Equal(x[i] + dy[i], three[3][i]);
        }
    }
}
