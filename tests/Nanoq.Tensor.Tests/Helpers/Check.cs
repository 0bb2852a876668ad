namespace Nanoq.Tests;

/// <summary>Tolerant comparisons for kernel outputs against double-precision references.</summary>
internal static class Check
{
    /// <summary>|e − a| ≤ atol + rtol·|e| elementwise; NaN matches NaN, ±∞ must match exactly.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol = 1e-5, double atol = 1e-6, string what = "")
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (double.IsInfinity(e) || double.IsInfinity(a))
            {
                Assert.True(e == a, $"{what}[{i}]: {a}, expected {e}");
                continue;
            }
            Assert.True(Math.Abs(e - a) <= atol + rtol * Math.Abs(e), $"{what}[{i}]: {a}, expected {e} (length {expected.Length})");
        }
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol = 1e-5, double atol = 1e-6, string what = "")
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        Close(e, actual, rtol, atol, what);
    }

    /// <summary>Bitwise-equal floats (NaN = NaN).</summary>
    public static void Same(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what = "")
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i].Equals(actual[i]), $"{what}[{i}]: {actual[i]}, expected {expected[i]}");
    }
}
