using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// Which vector code the kernels run. Every kernel with a 512-bit form has a 256-bit form with the same results — bit
/// for bit: the integer kernels are exact, and the float kernels keep each output's order of operations (a float
/// GEMM's tile shape changes which outputs a core computes together, never the sum over k of one output), so a model
/// gives the same bytes on an AVX2 and an AVX-512 machine. Tests run both forms where the CPU has AVX-512.
/// <para>
/// <see cref="Level"/> defaults to the best the CPU has, lowered by the environment variable <c>NANOQ_MAX_ISA</c>
/// (<c>avx512</c>, <c>avx2</c> or <c>portable</c>; like oneDNN's <c>ONEDNN_MAX_CPU_ISA</c>) — e.g. to measure the
/// AVX2 kernels on an AVX-512 machine. It is read when a kernel starts, so set it between runs, not during one.
/// </para>
/// </summary>
public static class Simd
{
    // Initialized in this order (textual): the hardware first, the level from it.
    private static readonly SimdLevel s_hardware =
        Avx512F.IsSupported && Avx512BW.IsSupported ? SimdLevel.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? SimdLevel.Avx2
        : SimdLevel.Portable;
    private static SimdLevel s_level = FromEnvironment(s_hardware);

    /// <summary>The most this CPU and runtime support.</summary>
    public static SimdLevel Hardware => s_hardware;

    /// <summary>The level the kernels use: at most <see cref="Hardware"/> (a higher value is refused).</summary>
    public static SimdLevel Level
    {
        get => s_level;
        set
        {
            if (value < SimdLevel.Portable || value > Hardware)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"Simd.Level: this CPU supports at most {Hardware}.");
            s_level = value;
        }
    }

    /// <summary>Whether the 512-bit forms run.</summary>
    internal static bool Is512 => s_level == SimdLevel.Avx512;

    /// <summary>Whether a vector form (256- or 512-bit) runs.</summary>
    internal static bool IsVector => s_level != SimdLevel.Portable;

    private static SimdLevel FromEnvironment(SimdLevel hardware) => Environment.GetEnvironmentVariable("NANOQ_MAX_ISA")?.Trim().ToLowerInvariant() switch
        {
            "avx2" => hardware < SimdLevel.Avx2 ? hardware : SimdLevel.Avx2,
            "portable" or "none" or "scalar" => SimdLevel.Portable,
            _ => hardware,
        };
}
