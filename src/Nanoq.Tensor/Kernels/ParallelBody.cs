namespace Nanoq.Kernels;

/// <summary>One parallel region's work: <see cref="Invoke"/> runs task <c>t</c>; tasks must not depend on each other.</summary>
/// <remarks>A struct implementing this is specialised by the JIT, so calling it costs no delegate or allocation.</remarks>
internal interface IParallelBody
{
    void Invoke(int task);
}
