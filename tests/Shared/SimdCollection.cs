using Nanoq.Kernels;

namespace Nanoq.Tests;

/// <summary>Tests that change <see cref="Simd.Level"/> run in this collection, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimdCollection
{
    public const string Name = "Simd level";
}
