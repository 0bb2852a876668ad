using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// Convolutions at each vector level: the batched im2col GEMM (<see cref="Conv2dPackBIm2col"/>'s 512- and 256-bit
/// masked loads) and the phase grid (<see cref="Conv2dDirectGemm"/>'s run scatter), forward and both gradients,
/// against the definition and, bit for bit, against the best level. On an AVX2-only machine only the Avx2 level runs
/// and the cross-level comparison is with itself; it compares the two forms on AVX-512 (CI) machines.
/// </summary>
[Collection(SimdCollection.Name)]
public class Conv2dSimdLevelTests
{
    // n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups
    private static readonly int[][] Geometries =
    [
        [3, 8, 5, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1],    // batched: 32-column panels straddle images
        [2, 6, 9, 8, 10, 3, 3, 2, 1, 1, 1, 1, 1, 1],    // batched, stride 2 along rows
        [2, 5, 4, 9, 12, 3, 2, 1, 1, 2, 0, 1, 2, 1],    // batched, runs hanging over both image edges
        [1, 7, 11, 13, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1],  // phase grid, rows of 13: partial 8-lane blocks
        [2, 16, 20, 20, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1], // phase grid, several strips and tasks
    ];

    public static TheoryData<SimdLevel, int> LevelsAndGeometries
    {
        get
        {
            var data = new TheoryData<SimdLevel, int>();
            foreach (var level in SimdLevels.Vector)
                for (int i = 0; i < Geometries.Length; i++) data.Add(level, i);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndGeometries))]
    public void Forward_and_gradients_match_the_definition_and_the_best_level_bit_for_bit(SimdLevel level, int index)
    {
        var p = Geometries[index];
        var g = new Conv2dGeometry(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13]);
        var rng = new Random(index + 17);
        var x = GemmReference.Random(rng, g.InputLength);
        var w = GemmReference.Random(rng, g.WeightLength);
        var b = GemmReference.Random(rng, g.OutChannels);
        var dy = GemmReference.Random(rng, g.OutputLength);
        var dx0 = GemmReference.Random(rng, g.InputLength);

        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run()
        {
            var y = new float[g.OutputLength];
            Conv2dKernels.Conv2dForward(g, x, w, b, y);
            var dx = (float[])dx0.Clone();
            Conv2dKernels.Conv2dBackwardInput(g, dy, w, dx, accumulate: true);
            var dw = new float[g.WeightLength];
            var db = new float[g.OutChannels];
            Conv2dKernels.Conv2dBackwardWeight(g, x, dy, dw, db);
            return (y, dx, dw, db);
        }

        var actual = SimdLevels.With(level, Run);
        var best = SimdLevels.With(Simd.Hardware, Run);
        Check.Same(best.Y, actual.Y, $"y at {level} vs {Simd.Hardware}");
        Check.Same(best.Dx, actual.Dx, $"dx at {level} vs {Simd.Hardware}");
        Check.Same(best.Dw, actual.Dw, $"dw at {level} vs {Simd.Hardware}");
        Check.Same(best.Db, actual.Db, $"db at {level} vs {Simd.Hardware}");

        var (expected, bound) = Conv2dReference.Forward(g, x, w, b);
        GemmReference.AssertClose(expected, bound, actual.Y, $"y of {g} at {level}");
        (expected, bound) = Conv2dReference.BackwardInput(g, dy, w, dx0);
        GemmReference.AssertClose(expected, bound, actual.Dx, $"dx of {g} at {level}");
        (expected, bound) = Conv2dReference.BackwardWeight(g, x, dy, null);
        GemmReference.AssertClose(expected, bound, actual.Dw, $"dw of {g} at {level}");
        (expected, bound) = Conv2dReference.BackwardBias(g, dy, null);
        GemmReference.AssertClose(expected, bound, actual.Db, $"db of {g} at {level}");
    }
}
