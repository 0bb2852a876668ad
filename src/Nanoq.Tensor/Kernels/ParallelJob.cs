namespace Nanoq.Kernels;

/// <summary>
/// The non-generic face of a parallel region, so worker threads can run a body whose type they do not know.
/// </summary>
internal abstract class ParallelJob
{
    public abstract void Invoke(int task);
}
