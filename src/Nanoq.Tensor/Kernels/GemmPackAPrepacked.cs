namespace Nanoq.Kernels;

/// <summary>
/// A operand packed ahead of time by <see cref="GemmDriver.PrepackA{TA}"/> (e.g. convolution weights packed once
/// per call and shared by every image and thread): returns pointers into it, copies nothing.
/// </summary>
internal readonly unsafe struct GemmPackAPrepacked(float* packed, int paddedM) : IGemmPackA
{
    // Blocks are stored in K order; the block starting at p0 follows p0 columns' worth of panels.
    public float* Pack(float* scratch, int i0, int mc, int p0, int kc) => packed + (long)p0 * paddedM + (long)i0 * kc;
}
