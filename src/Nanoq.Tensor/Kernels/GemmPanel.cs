namespace Nanoq.Kernels;

/// <summary>Widths of packed B panels.</summary>
internal static class GemmPanel
{
    /// <summary>
    /// Width of the panel holding the next <paramref name="remaining"/> columns: 32, or 16 for a last panel of at
    /// most 16 columns (run by the 8×16 kernel, so a narrow right edge wastes less work).
    /// </summary>
    public static int Width(int remaining) => remaining > 16 ? GemmMicroKernel.NR : 16;
}
