using Nanoq.Kernels;

namespace Nanoq.Tests;

/// <summary>
/// For the tests that the 256-bit and 512-bit forms of a kernel give the same results: the vector levels this CPU has,
/// and a way to run code at one of them. Tests that switch levels belong to the <see cref="SimdCollection"/>, which runs
/// alone, so no other test sees a lowered level.
/// </summary>
internal static class SimdLevels
{
    /// <summary>The vector levels this CPU runs: AVX2, and AVX-512 where present (on a CPU with neither, the portable
    /// level, which is then what runs).</summary>
    public static IReadOnlyList<SimdLevel> VectorLevels =>
        Simd.Hardware == SimdLevel.Portable ? [SimdLevel.Portable] : Enumerable.Range(1, (int)Simd.Hardware).Select(l => (SimdLevel)l).ToArray();

    /// <summary>Every level this CPU runs, the portable one included.</summary>
    public static IReadOnlyList<SimdLevel> AllLevels =>
        Enumerable.Range(0, (int)Simd.Hardware + 1).Select(l => (SimdLevel)l).ToArray();

    /// <summary><see cref="VectorLevels"/> as theory data.</summary>
    public static TheoryData<SimdLevel> Vector
    {
        get
        {
            var data = new TheoryData<SimdLevel>();
            foreach (var l in VectorLevels) data.Add(l);
            return data;
        }
    }

    /// <summary><paramref name="body"/> with <see cref="Simd.Level"/> at <paramref name="level"/>, restored afterwards.</summary>
    public static T With<T>(SimdLevel level, Func<T> body)
    {
        var saved = Simd.Level;
        try
        {
            Simd.Level = level;
            return body();
        }
        finally
        {
            Simd.Level = saved;
        }
    }

    public static void With(SimdLevel level, Action body) => With(level, () => { body(); return 0; });
}
