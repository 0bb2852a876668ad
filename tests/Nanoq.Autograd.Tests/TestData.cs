namespace Nanoq.Tests;

/// <summary>Random test tensors from a fixed seed.</summary>
internal static class TestData
{
    public static Tensor Normal(ulong seed, params int[] dims) => new Rng(seed).Normal(new Shape(dims));

    public static Tensor Uniform(ulong seed, float lo, float hi, params int[] dims) => new Rng(seed).Uniform(new Shape(dims), lo, hi);

    /// <summary>Values bounded away from 0 by at least <paramref name="gap"/> (for ops with a kink at 0).</summary>
    public static Tensor AwayFromZero(ulong seed, float gap, params int[] dims)
    {
        var t = Normal(seed, dims);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = s[i] >= 0 ? s[i] + gap : s[i] - gap;
        return t;
    }
}
