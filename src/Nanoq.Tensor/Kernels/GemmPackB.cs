namespace Nanoq.Kernels;

/// <summary>
/// Supplies the right operand of the GEMM driver as packed panels.
/// Packed block for columns [j0, j0 + nc) and K range [p0, p0 + kc): panel at column offset jr (a multiple of 32)
/// starts at <c>jr·kc</c>, has width w = <see cref="GemmPanel.Width"/>(nc − jr) and holds element (kk, c) at
/// <c>kk·w + c</c>; columns past nc are zero.
/// </summary>
internal unsafe interface IGemmPackB
{
    /// <param name="dst">Destination, at least kc · roundup(nc, 32) floats.</param>
    void Pack(float* dst, int j0, int nc, int p0, int kc);
}
