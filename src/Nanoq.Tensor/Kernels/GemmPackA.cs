namespace Nanoq.Kernels;

/// <summary>
/// Supplies the left operand of the GEMM driver as packed panels.
/// Packed block for rows [i0, i0 + mc) and K range [p0, p0 + kc): panel q (rows i0 + 8q .. i0 + 8q + 7) starts at
/// <c>q·8·kc</c> and holds element (kk, r) at <c>kk·8 + r</c>; rows past <paramref name="mc"/> are zero.
/// </summary>
/// <remarks>Implementations are small structs of pointers and sizes, so the driver is specialised per packer.</remarks>
internal unsafe interface IGemmPackA
{
    /// <summary>Packs into <paramref name="scratch"/> (or returns an already packed block) and returns the block.</summary>
    /// <param name="i0">First row, a multiple of 8.</param>
    float* Pack(float* scratch, int i0, int mc, int p0, int kc);
}
