using Nanoq.Kernels;

namespace Nanoq.Tests;

/// <summary>For the tests that a kernel's result does not depend on how many threads ran it.</summary>
internal static class Threads
{
    /// <summary><paramref name="body"/> with <see cref="ParallelRunner.MaxDegreeOfParallelism"/> at <paramref name="degree"/>, restored afterwards.</summary>
    public static T With<T>(int degree, Func<T> body)
    {
        int saved = ParallelRunner.MaxDegreeOfParallelism;
        try
        {
            ParallelRunner.MaxDegreeOfParallelism = degree;
            return body();
        }
        finally
        {
            ParallelRunner.MaxDegreeOfParallelism = saved;
        }
    }
}
