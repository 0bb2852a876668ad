namespace Nanoq.Kernels;

/// <summary>Item <c>task</c> of <see cref="WorkSplit.Tasks"/>.</summary>
internal struct WorkSplitTasks : IParallelBody
{
    public Action<int> Body;

    public void Invoke(int task) => Body(task);
}
