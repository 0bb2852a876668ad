namespace Nanoq.Kernels;

/// <summary>
/// Holds the body of the running region. One instance per body type, reused: only the owner of
/// <see cref="ParallelRunner"/>'s busy flag writes <see cref="Body"/>, so a region allocates nothing.
/// </summary>
internal sealed class ParallelJobHolder<TBody> : ParallelJob where TBody : struct, IParallelBody
{
    public static readonly ParallelJobHolder<TBody> Instance = new();

    /// <summary>The holder of a nested region's body (ParallelRunner.LendUntil): distinct, since the region it runs inside may have the same body type.</summary>
    public static readonly ParallelJobHolder<TBody> Nested = new();

    public TBody Body;

    public override void Invoke(int task) => Body.Invoke(task);
}
