namespace Nanoq.Kernels.Integer;

/// <summary>
/// The live 16-lane vectors of a micro-kernel's 64-wide tile (1–4: a small map's last tile, a layer's last output panel)
/// as a type, so that each count gets its own compiled kernel with the unused accumulators and loads compiled away
/// (<c>TLive.Count</c> is a constant in each instantiation): <see cref="IntConvMicroKernels"/>,
/// <see cref="IntFullyConnectedMicroKernels"/>.
/// </summary>
internal interface ILiveVectors { static abstract int Count { get; } }

internal struct Live1 : ILiveVectors { public static int Count => 1; }
internal struct Live2 : ILiveVectors { public static int Count => 2; }
internal struct Live3 : ILiveVectors { public static int Count => 3; }
internal struct Live4 : ILiveVectors { public static int Count => 4; }
