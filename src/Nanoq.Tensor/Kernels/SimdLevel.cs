namespace Nanoq.Kernels;

/// <summary>The vector instruction sets the kernels are written for, in increasing order (see <see cref="Simd"/>).</summary>
public enum SimdLevel
{
    /// <summary>No x86 vector path: the integer kernels run their scalar references, the float kernels the portable
    /// <c>Vector512</c> code, which .NET emulates correctly and slowly (e.g. on Arm).</summary>
    Portable = 0,

    /// <summary>AVX2 and FMA3 (256-bit; Haswell and later, Zen 1–3): 16 vector registers.</summary>
    Avx2 = 1,

    /// <summary>AVX-512 F and BW (512-bit; Skylake-SP and later, Zen 4 and later): 32 vector registers.</summary>
    Avx512 = 2,
}
