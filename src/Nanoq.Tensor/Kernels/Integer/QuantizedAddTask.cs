namespace Nanoq.Kernels.Integer;

/// <summary>Part <c>task</c> of <see cref="Parts"/> equal runs of a <see cref="QuantizedAdd"/>; pointers pinned by the caller.</summary>
internal unsafe struct QuantizedAddTask : IParallelBody
{
    public byte* A, B, Y;
    public int Length, Parts;
    public QuantizedAddParams Parameters;

    public void Invoke(int task)
    {
        int first = (int)((long)Length * task / Parts), end = (int)((long)Length * (task + 1) / Parts);
        QuantizedAdd.Run(new ReadOnlySpan<byte>(A + first, end - first), new ReadOnlySpan<byte>(B + first, end - first), Parameters,
                         new Span<byte>(Y + first, end - first));
    }
}
