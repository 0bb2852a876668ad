using System.Runtime.ExceptionServices;

namespace Nanoq.Coco;

/// <summary>
/// Parallel.For that fails like the sequential loop would: it rethrows the exception of the lowest failing index,
/// as itself (a <see cref="CocoFormatException"/> naming a bad image stays one, not an AggregateException), so the
/// error reported does not depend on thread timing.
/// </summary>
internal static class ParallelWork
{
    public static void For(int count, Action<int> body)
    {
        var errors = new Exception?[count];
        Parallel.For(0, count, (i, state) =>
        {
            try
            {
                body(i);
            }
            catch (Exception ex)
            {
                errors[i] = ex;
                // Break (not Stop): iterations below i still run, so the lowest failing index is found.
                state.Break();
            }
        });
        foreach (var ex in errors)
            if (ex is not null) ExceptionDispatchInfo.Capture(ex).Throw();
    }
}
