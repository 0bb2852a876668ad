using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>Tests that change <see cref="Simd.Level"/> run in this collection, after and apart from all others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimdLevelCollection
{
    public const string Name = "Simd level";
}
