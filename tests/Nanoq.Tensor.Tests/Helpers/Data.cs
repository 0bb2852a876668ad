namespace Nanoq.Tests;

/// <summary>Random test inputs, all from the seeded <see cref="Rng"/> so failures reproduce.</summary>
internal static class Data
{
    public static float[] Uniform(Rng rng, int n, float lo = -2f, float hi = 2f)
    {
        var a = new float[n];
        rng.FillUniform(a, lo, hi);
        return a;
    }

    /// <summary>Small integers in [lo, hi]: many exact ties (for argmax rules) and exact sums.</summary>
    public static float[] SmallInts(Rng rng, int n, int lo = -3, int hi = 3)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.NextInt(lo, hi + 1);
        return a;
    }

    public static Tensor Tensor(Rng rng, params int[] dims)
    {
        var shape = new Shape(dims);
        return Nanoq.Tensor.FromArray(Uniform(rng, shape.Size), dims.Length == 0 ? [] : dims);
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    /// <summary>Row-major strides of a shape.</summary>
    public static int[] Strides(int[] dims)
    {
        var s = new int[dims.Length];
        int acc = 1;
        for (int i = dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /// <summary>The multi-index of flat position <paramref name="flat"/> in <paramref name="dims"/>.</summary>
    public static int[] Unravel(int flat, int[] dims)
    {
        var idx = new int[dims.Length];
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            if (dims[i] == 0) return idx;
            idx[i] = flat % dims[i];
            flat /= dims[i];
        }
        return idx;
    }
}
