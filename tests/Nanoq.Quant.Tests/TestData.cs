namespace Nanoq.Tests;

/// <summary>Random test tensors from a fixed seed.</summary>
internal static class TestData
{
    public static Tensor Normal(ulong seed, params int[] dims) => new Rng(seed).Normal(new Shape(dims));

    public static Tensor Uniform(ulong seed, float lo, float hi, params int[] dims) => new Rng(seed).Uniform(new Shape(dims), lo, hi);

    public static uint Bits(float v) => BitConverter.SingleToUInt32Bits(v);

    /// <summary>Bit-for-bit equality of two spans (signed zeros count).</summary>
    public static bool SameBits(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (Bits(a[i]) != Bits(b[i])) return false;
        return true;
    }
}
