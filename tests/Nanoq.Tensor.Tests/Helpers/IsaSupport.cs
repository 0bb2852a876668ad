using System.Runtime.Intrinsics.X86;

namespace Nanoq.Tests;

/// <summary>Whether this process can run an <see cref="Isa"/>, and the skip reason when it cannot.</summary>
public static class IsaSupport
{
    public static bool IsSupported(Isa isa) => isa switch
    {
        Isa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        Isa.Avx512BW => Avx512BW.IsSupported,
        Isa.AvxVnni => AvxVnni.IsSupported,
        Isa.Avx512Vbmi => Avx512BW.IsSupported && Avx512Vbmi.IsSupported,
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, null),
    };

    /// <summary>null when every one of <paramref name="isas"/> is supported; otherwise the skip reason naming the missing ones.</summary>
    public static string? SkipReason(Isa[] isas)
    {
        var missing = isas.Where(i => !IsSupported(i)).ToArray();
        return missing.Length == 0
            ? null
            : $"needs {string.Join(" and ", missing)}: this CPU (or runtime) lacks it, so the path cannot run here";
    }
}
