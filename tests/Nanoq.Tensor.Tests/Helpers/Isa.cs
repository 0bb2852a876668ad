namespace Nanoq.Tests;

/// <summary>
/// The instruction sets some integer kernels need. A test that exercises one of them declares it with
/// <see cref="FactRequiresAttribute"/> / <see cref="TheoryRequiresAttribute"/>, so on a CPU (or runtime) without it the
/// test reports as skipped with the reason instead of returning early and passing without checking anything.
/// </summary>
public enum Isa
{
    /// <summary>AVX2 + FMA (256-bit vectors): the 256-bit forms of the kernels.</summary>
    Avx2,

    /// <summary>AVX-512BW (vpmaddubsw/vpmaddwd on 512-bit vectors): every vector integer path.</summary>
    Avx512BW,

    /// <summary>AVX-VNNI (vpdpbusd on 256-bit vectors): the native <c>IntConvPath.Vnni</c> path.</summary>
    AvxVnni,

    /// <summary>AVX-512 VBMI (byte permutes): the integer Winograd conv (<c>IntConv2dWinograd</c>) and the VBMI interleave.</summary>
    Avx512Vbmi,
}
