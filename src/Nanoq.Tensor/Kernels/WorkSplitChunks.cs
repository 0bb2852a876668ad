namespace Nanoq.Kernels;

/// <summary>Chunk <c>task</c> of <see cref="Chunks"/> contiguous, near-equal chunks of [0, <see cref="Count"/>) for <see cref="WorkSplit.For"/>.</summary>
internal struct WorkSplitChunks : IParallelBody
{
    public int Count, Chunks;
    public Action<int, int> Body;

    public void Invoke(int task) =>
        Body((int)((long)Count * task / Chunks), (int)((long)Count * (task + 1) / Chunks));
}
