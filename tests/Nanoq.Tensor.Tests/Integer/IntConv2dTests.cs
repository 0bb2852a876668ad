using System.Runtime.Intrinsics.X86;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// The integer conv: the reference against hand arithmetic and an independent loop, then every fast path against the
/// reference bit for bit (accumulators and requantized codes), over odd sizes, strides, padding, dilation, groups and
/// depthwise; thread-count independence; the guards.
/// </summary>
[Collection(SimdCollection.Name)]
public class IntConv2dTests
{
    public static TheoryData<int, int, int, int, int, int, int, int, int, int> Geometries => new()
    {
        // n, cin, h, w, cout, k, stride, pad, dilation, groups
        { 1, 1, 5, 5, 1, 3, 1, 1, 1, 1 },
        { 2, 3, 7, 9, 5, 3, 1, 1, 1, 1 },
        { 1, 8, 13, 11, 6, 3, 2, 1, 1, 1 },
        { 2, 5, 9, 17, 7, 1, 1, 0, 1, 1 },
        { 1, 16, 20, 19, 9, 3, 1, 2, 2, 1 },
        { 1, 6, 11, 12, 6, 3, 1, 1, 1, 3 },
        { 1, 12, 10, 9, 8, 3, 2, 1, 1, 4 },
        { 2, 7, 15, 15, 3, 5, 3, 2, 1, 1 },
        { 1, 4, 33, 35, 4, 1, 2, 0, 1, 1 },
        { 1, 64, 9, 9, 17, 3, 1, 1, 1, 1 },
        { 1, 3, 23, 21, 8, 7, 2, 3, 1, 1 },
        { 2, 9, 12, 13, 9, 3, 1, 1, 1, 9 },   // depthwise
        { 1, 5, 14, 9, 5, 3, 2, 1, 1, 5 },    // depthwise, strided
        { 1, 4, 9, 30, 4, 5, 1, 4, 2, 4 },    // depthwise, dilated
        { 1, 3, 40, 45, 3, 3, 2, 1, 1, 3 },   // depthwise, strided, rows of full and partial vectors
        { 2, 4, 21, 37, 4, 5, 3, 2, 2, 4 },   // depthwise, stride 3, dilated
        // small maps at stride 1: the batch's padded planes stacked into one tall plane (IntConv2d.RunTall)
        { 8, 64, 2, 2, 64, 3, 1, 1, 1, 1 },
        { 8, 16, 5, 5, 9, 3, 1, 1, 1, 1 },
        { 5, 7, 3, 4, 6, 3, 1, 2, 2, 1 },     // dilated, padding 2
        { 8, 6, 3, 3, 5, 5, 1, 2, 1, 1 },
        { 3, 5, 4, 2, 7, 1, 1, 0, 1, 1 },     // 1×1, no padding
        { 6, 8, 4, 5, 7, 3, 1, 1, 1, 1 },     // planes of 20: tiles start mid-image and hold 4 images' runs
        { 8, 4, 1, 17, 5, 3, 1, 1, 1, 1 },    // planes of 17: a tile holds up to 5 images' runs
        // tiles with at most 16, 32 or 48 real positions compute only those (Madd16x1, x2, x3)
        { 1, 8, 3, 3, 5, 3, 1, 1, 1, 1 },     // 3 rows of 5 padded columns: 15 positions
        { 1, 6, 4, 6, 7, 3, 1, 1, 1, 1 },     // 32 positions
        { 1, 8, 5, 5, 6, 3, 1, 1, 1, 1 },     // 35 positions
        { 1, 4, 11, 11, 5, 3, 2, 1, 1, 1 },   // strided, 36
        { 1, 8, 9, 9, 6, 3, 2, 1, 1, 1 },     // strided, 25 gathered positions
        { 1, 4, 7, 7, 5, 3, 2, 1, 1, 1 },     // strided, 16
        { 1, 16, 10, 10, 9, 3, 1, 1, 1, 1 },  // 120 positions: a full tile and one of 56
        { 3, 8, 2, 3, 6, 3, 1, 1, 1, 1 },     // tall: 3 images of 2×3, 18 positions
        { 2, 70, 3, 3, 5, 3, 1, 1, 1, 1 },    // tall, 18 channel units (the last partial), 18 positions
    };

    private static Conv2dGeometry Geo(int n, int cin, int h, int w, int cout, int k, int s, int p, int d, int groups) =>
        new(n, cin, h, w, cout, k, s, p, d, groups);

    [Fact]
    public void Reference_HandCase()
    {
        // x (z_x = 2): 3×3 codes 1..9, so x − z_x = −1..7;  one 3×3 kernel, z_w = 1, codes all 2 → w − z_w = 1;
        // pad 1, stride 1 → output [0,0] sums the top-left 2×2 window of x − z_x: (−1 + 0 + 2 + 3) = 4; the padding adds 0
        // because it reads z_x. bias 10 → acc = 14. Center output sums all nine: (−1 + … + 7) = 27 → 37.
        var g = new Conv2dGeometry(1, 1, 3, 3, 1, 3, 1, 1);
        byte[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        byte[] w = [2, 2, 2, 2, 2, 2, 2, 2, 2];
        var acc = new int[9];
        IntConv2dReference.Accumulators(g, x, 2, w, [1], [10], acc);
        Assert.Equal(14, acc[0]);
        Assert.Equal(37, acc[4]);
        // Requantize with M = 0.5 (M0 = 2^30, shift 0): 37·0.5 = 18.5 → 19 (ties away... via SRDHM tie up: 37·2^30/2^31 = 18.5 → 19), + z_y 3 = 22.
        var rq = Requantization.PerTensor(1 << 30, 0, 3, 0, 255);
        var y = new byte[9];
        IntConv2dReference.Forward(g, x, 2, w, [1], [10], rq, y);
        Assert.Equal(22, y[4]);
        Assert.Equal(10, y[0]); // 14·0.5 = 7, + 3
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Reference_EqualsIndependentLoop(int n, int cin, int h, int w, int cout, int k, int s, int p, int d, int groups)
    {
        // An independent formulation: pad the image with z_x explicitly, then slide the kernel (no bounds tests inside).
        var g = Geo(n, cin, h, w, cout, k, s, p, d, groups);
        var data = IntConvData.Random(new Rng(1), g, 4, 4);
        int hp = h + 2 * p, wp = w + 2 * p;
        var padded = new int[n * cin * hp * wp];
        Array.Fill(padded, data.Zx);
        for (int i = 0; i < n * cin; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    padded[(i * hp + y + p) * wp + x + p] = data.X[(i * h + y) * w + x];
        var expected = new int[g.OutputLength];
        int cinG = cin / groups, coutG = cout / groups;
        for (int b = 0; b < n; b++)
            for (int o = 0; o < cout; o++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        long sum = data.Bias[o];
                        for (int c = 0; c < cinG; c++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                {
                                    int xv = padded[((b * cin + o / coutG * cinG + c) * hp + oy * s + ky * d) * wp + ox * s + kx * d];
                                    int wv = data.W[((o * cinG + c) * k + ky) * k + kx];
                                    sum += (long)(wv - data.Zw[o]) * (xv - data.Zx);
                                }
                        expected[((b * cout + o) * g.OutHeight + oy) * g.OutWidth + ox] = (int)sum;
                    }
        Assert.Equal(expected, data.ReferenceAcc());
    }

    public static TheoryData<IntConvPath, int, int, bool> VectorPaths => new()
    {
        // path, input bits, weight bits, narrow weights (|w − z_w| ≤ 127)
        { IntConvPath.Auto, 4, 4, false },
        { IntConvPath.Madd16, 4, 4, false },
        { IntConvPath.Madd16, 2, 3, false },
        { IntConvPath.Madd16, 6, 6, false },
        { IntConvPath.Madd16, 7, 7, false },
        { IntConvPath.Int16, 8, 8, false },
        { IntConvPath.Int16, 4, 4, false },
        { IntConvPath.VnniEmulated, 8, 8, true },
        { IntConvPath.VnniEmulated, 4, 4, false },
        { IntConvPath.Auto, 8, 8, false },
    };

    /// <summary>The vector paths (Auto picks one of them; depthwise geometries take the depthwise kernel), in their
    /// 256-bit (AVX2) and, where the CPU has AVX-512BW, 512-bit forms; VnniEmulated is 512-bit only. On a CPU without AVX2 every row reports
    /// as skipped rather than passing empty.</summary>
    [TheoryRequires(Isa.Avx2)]
    [MemberData(nameof(VectorPaths))]
    public void FastPaths_EqualReference(IntConvPath path, int inputBits, int weightBits, bool narrow)
    {
        foreach (var level in SimdLevels.VectorLevels)
            if (level == SimdLevel.Avx512 || path != IntConvPath.VnniEmulated)
                SimdLevels.With(level, () => CheckPathAgainstReference(path, inputBits, weightBits, narrow));
    }

    /// <summary>The native AVX-VNNI path (a 256-bit micro-kernel inside the AVX-512 task, so it needs both). .NET exposes
    /// only the 256-bit AVX-VNNI: the Zen 4 of DESIGN.md §8 lacks it and reports this as skipped, the Zen 5-class CPU of
    /// the current development machine has it; <c>VnniEmulated</c> above checks the same weight layout on every AVX-512BW CPU.</summary>
    [FactRequires(Isa.Avx512BW, Isa.AvxVnni)]
    public void VnniPath_EqualsReference() => CheckPathAgainstReference(IntConvPath.Vnni, 8, 8, narrow: true);

    /// <summary>The paths that run on any CPU: the scalar reference through the dispatcher, and Auto, which picks the
    /// reference where there is no AVX-512BW and a vector path where there is.</summary>
    [Theory]
    [InlineData(IntConvPath.Reference, 8, 8)]
    [InlineData(IntConvPath.Auto, 4, 4)]
    public void PortablePaths_EqualReference(IntConvPath path, int inputBits, int weightBits) =>
        CheckPathAgainstReference(path, inputBits, weightBits, narrow: false);

    private static void CheckPathAgainstReference(IntConvPath path, int inputBits, int weightBits, bool narrow)
    {
        var rng = new Rng((ulong)(1000 + (int)path * 10 + inputBits));
        int checkedGeometries = 0;
        foreach (var row in Geometries)
        {
            var g = Geo((int)row[0], (int)row[1], (int)row[2], (int)row[3], (int)row[4], (int)row[5], (int)row[6], (int)row[7], (int)row[8], (int)row[9]);
            var p = path;
            if (g.IsDepthwise && path is not (IntConvPath.Auto or IntConvPath.Reference)) p = IntConvPath.Depthwise;
            var data = IntConvData.Random(rng, g, inputBits, weightBits, narrowWeights: narrow);
            var weights = data.Pack(p);
            if (p != IntConvPath.Auto) Assert.Equal(p, weights.Path);
            var acc = new int[g.OutputLength];
            IntConv2d.ForwardAccumulators(g, data.X, data.Zx, weights, data.Bias, acc);
            Assert.True(data.ReferenceAcc().AsSpan().SequenceEqual(acc), $"{weights.Path} accumulators differ for {g}");
            var y = new byte[g.OutputLength];
            IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, y);
            Assert.True(data.ReferenceCodes().AsSpan().SequenceEqual(y), $"{weights.Path} codes differ for {g}");
            // The same with TFLite's single rounding in the epilogue.
            var single = new Requantization(data.Rq.Multipliers, data.Rq.Shifts, data.Rq.OutputZeroPoint, data.Rq.ClampMin,
                data.Rq.ClampMax, RequantRounding.Single);
            var expected = new byte[g.OutputLength];
            IntConv2dReference.Forward(g, data.X, data.Zx, data.W, data.Zw, data.Bias, single, expected);
            IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, single, y);
            Assert.True(expected.AsSpan().SequenceEqual(y), $"{weights.Path} single-rounding codes differ for {g}");
            checkedGeometries++;
        }
        Assert.Equal(Geometries.Count(), checkedGeometries);
    }

    [FactRequires(Isa.Avx2)]
    public void Madd16_WorstCaseCodesStayExact()
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, Madd16_WorstCase);
    }

    private static void Madd16_WorstCase()
    {
        // Every product at its bound: x = 15, w − z_w = −15 (z_w = 15, w = 0) and z_x = 0, so each 16-bit lane receives
        // −450 per step for the full S = 72 steps before it is widened; K = 64·9 = 576 = 144 steps.
        var g = new Conv2dGeometry(1, 64, 8, 8, 4, 3, 1, 1);
        var x = Enumerable.Repeat((byte)15, g.InputLength).ToArray();
        var w = new byte[g.WeightLength];
        var weights = IntConv2dWeights.Pack(4, 64, 3, 3, 1, w, [15], 4, 4, IntConvPath.Madd16);
        Assert.Equal(72, weights.StepsPerWiden);
        var acc = new int[g.OutputLength];
        IntConv2d.ForwardAccumulators(g, x, 0, weights, [], acc);
        var expected = new int[g.OutputLength];
        IntConv2dReference.Accumulators(g, x, 0, w, [15], [], expected);
        Assert.Equal(expected, acc);
        Assert.Equal(-15 * 15 * 576, acc[9]); // an interior pixel: all 576 terms are −225
    }

    /// <summary>The same bound on the narrow kernels: tiles of ≤ 16, ≤ 32 and ≤ 48 positions, widened after 72 of 144 steps.</summary>
    [TheoryRequires(Isa.Avx2)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    public void Madd16_WorstCaseCodesStayExact_OnSmallMaps(int size)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => Madd16_WorstCaseSmall(size));
    }

    private static void Madd16_WorstCaseSmall(int size)
    {
        var g = new Conv2dGeometry(1, 64, size, size, 4, 3, 1, 1);
        var x = Enumerable.Repeat((byte)15, g.InputLength).ToArray();
        var w = new byte[g.WeightLength];
        var weights = IntConv2dWeights.Pack(4, 64, 3, 3, 1, w, [15], 4, 4, IntConvPath.Madd16);
        var acc = new int[g.OutputLength];
        IntConv2d.ForwardAccumulators(g, x, 0, weights, [], acc);
        var expected = new int[g.OutputLength];
        IntConv2dReference.Accumulators(g, x, 0, w, [15], [], expected);
        Assert.Equal(expected, acc);
    }

    /// <summary>
    /// Batches whose interleaved input exceeds one 256K-unit chunk go through a chunk at a time: 128 channels of 92×92
    /// interleave to 32 planes of 94·94 units ≈ 283K units an image (three images, packed and convolved one by one); of
    /// 5×5 maps padded to 7×7, 1,568 units an image, so a chunk holds 167 and 170 images are two stacked tall planes.
    /// </summary>
    [TheoryRequires(Isa.Avx2)]
    [InlineData(3, 92, 8)]
    [InlineData(170, 5, 9)]
    public void Batches_spanning_several_input_chunks(int batch, int size, int seed)
    {
        var g = new Conv2dGeometry(batch, 128, size, size, 4, 3, 1, 1);
        var data = IntConvData.Random(new Rng((ulong)seed), g, 4, 4);
        var expected = data.ReferenceAcc();
        foreach (var level in SimdLevels.VectorLevels)
        {
            var acc = new int[g.OutputLength];
            SimdLevels.With(level, () => IntConv2d.ForwardAccumulators(g, data.X, data.Zx, data.Pack(IntConvPath.Madd16), data.Bias, acc));
            Assert.Equal(expected, acc);
        }
    }

    /// <summary>
    /// Inside a running region with a lending thread (how a program's ops run at batch 1, IntProgram.RunBranches), a conv
    /// of a small map takes single tiles and splits its channel blocks until every thread has two tasks (IntConv2d's
    /// Split: 2 tiles into 2 runs, 1 tile into 4 or 6, the strided panel gathered once a run, the tall plane's tile):
    /// the same accumulators and codes as the reference, at two and three threads.
    /// </summary>
    [TheoryRequires(Isa.Avx2)]
    [InlineData(1, 64, 10, 64, 1)]
    [InlineData(1, 128, 5, 124, 1)]
    [InlineData(1, 64, 20, 72, 2)]
    [InlineData(4, 64, 3, 64, 1)]
    public void Convs_inside_a_region_split_their_channels_and_equal_the_reference(int n, int cin, int size, int cout, int stride)
    {
        var g = new Conv2dGeometry(n, cin, size, size, cout, 3, stride, 1);
        var data = IntConvData.Random(new Rng((ulong)(cin + size + cout)), g, 4, 4);
        var expectedAcc = data.ReferenceAcc();
        var expectedCodes = data.ReferenceCodes();
        foreach (var level in SimdLevels.VectorLevels)
            foreach (int degree in new[] { 2, 3 })
            {
                var weights = SimdLevels.With(level, () => data.Pack(IntConvPath.Madd16));
                var acc = new int[g.OutputLength];
                var y = new byte[g.OutputLength];
                SimdLevels.With(level, () => Threads.With(degree, () =>
                {
                    int released = 0;
                    WorkSplit.Tasks(2, item =>
                    {
                        if (item == 1)
                        {
                            ParallelRunner.LendUntil(ref released, 0);
                            return;
                        }
                        try
                        {
                            // The split is made only while a thread lends itself: wait for item 1 to.
                            Assert.True(SpinWait.SpinUntil(() => ParallelRunner.HasLenders, TimeSpan.FromSeconds(20)), "item 1 never lent itself");
                            IntConv2d.ForwardAccumulators(g, data.X, data.Zx, weights, data.Bias, acc);
                            IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, y);
                        }
                        finally
                        {
                            Volatile.Write(ref released, 1);
                        }
                    });
                    return 0;
                }));
                Assert.True(expectedAcc.AsSpan().SequenceEqual(acc), $"accumulators differ for {g}, {level}, {degree} threads");
                Assert.True(expectedCodes.AsSpan().SequenceEqual(y), $"codes differ for {g}, {level}, {degree} threads");
            }
    }

    [Fact]
    public void Results_DoNotDependOnThreadCount()
    {
        var g = new Conv2dGeometry(3, 24, 21, 19, 20, 3, 1, 1);
        var data = IntConvData.Random(new Rng(5), g, 4, 4);
        var weights = data.Pack(IntConvPath.Auto);
        byte[] Run()
        {
            var y = new byte[g.OutputLength];
            IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, y);
            return y;
        }
        Assert.Equal(Threads.With(1, Run), Threads.With(2, Run));
    }

    [Fact]
    public void Guards()
    {
        var g = new Conv2dGeometry(1, 4, 6, 6, 4, 3, 1, 1);
        var data = IntConvData.Random(new Rng(6), g, 4, 4);
        var weights = data.Pack(IntConvPath.Auto);
        var y = new byte[g.OutputLength];
        Assert.Throws<ArgumentOutOfRangeException>(() => IntConv2d.Forward(g, data.X, 16, weights, data.Bias, data.Rq, y));
        Assert.Throws<ArgumentException>(() => IntConv2d.Forward(new Conv2dGeometry(1, 4, 6, 6, 5, 3, 1, 1), new byte[144], 0, weights, [], data.Rq, new byte[180]));
        Assert.Throws<ArgumentOutOfRangeException>(() => IntConv2d.Forward(g, data.X, data.Zx, weights, [1 << 30, 0, 0, 0], data.Rq, y));
        // Weight code off the grid; K too large for int32.
        Assert.Throws<ArgumentOutOfRangeException>(() => IntConv2dWeights.Pack(1, 1, 1, 1, 1, [16], [0], 4, 4));
        Assert.Throws<ArgumentException>(() => IntConv2dWeights.Pack(1, 20000, 1, 1, 1, new byte[20000], [255], 8, 8));
    }

    [FactRequires(Isa.Avx2)]
    public void Guards_VectorPaths()
    {
        var g = new Conv2dGeometry(1, 4, 6, 6, 4, 3, 1, 1);
        var data = IntConvData.Random(new Rng(6), g, 4, 4);
        var weights = data.Pack(IntConvPath.Madd16);
        var y = new byte[g.OutputLength];
        // Input code 16 is off the 4-bit grid the layer was packed for (Madd16 relies on x ≤ 15).
        var bad = (byte[])data.X.Clone();
        bad[7] = 16;
        Assert.Throws<ArgumentOutOfRangeException>(() => IntConv2d.Forward(g, bad, data.Zx, weights, data.Bias, data.Rq, y));
        // 8-bit weights too wide for the int8 paths (|255 − 0| > 127).
        Assert.Throws<ArgumentException>(() => IntConv2dWeights.Pack(1, 1, 1, 2, 1, [0, 255], [0], 8, 8, IntConvPath.Madd16));
    }

    /// <summary>A path the level cannot run refuses to pack instead of failing inside the conv: at the portable level every
    /// vector path (Auto gives the reference); at AVX2 the 512-bit-only ones (Vnni's kernel needs AVX-512's registers),
    /// while Auto gives Madd16, and Depthwise for a depthwise conv.</summary>
    [Fact]
    public void Paths_RefuseLevelsThatCannotRunThem()
    {
        SimdLevels.With(SimdLevel.Portable, () =>
        {
            Assert.Equal(IntConvPath.Reference, IntConv2dWeights.Pack(1, 1, 1, 1, 1, [3], [0], 4, 4).Path);
            foreach (var path in new[] { IntConvPath.Madd16, IntConvPath.Int16, IntConvPath.Vnni, IntConvPath.VnniEmulated })
                Assert.Throws<NotSupportedException>(() => IntConv2dWeights.Pack(1, 1, 1, 1, 1, [3], [0], 4, 4, path));
        });
        if (Simd.Hardware < SimdLevel.Avx2) return;
        SimdLevels.With(SimdLevel.Avx2, () =>
        {
            Assert.Equal(IntConvPath.Madd16, IntConv2dWeights.Pack(1, 1, 1, 1, 1, [3], [0], 4, 4).Path);
            foreach (var path in new[] { IntConvPath.Vnni, IntConvPath.VnniEmulated })
                Assert.Throws<NotSupportedException>(() => IntConv2dWeights.Pack(1, 1, 1, 1, 1, [3], [0], 4, 4, path));
            Assert.Equal(IntConvPath.Depthwise, IntConv2dWeights.Pack(2, 2, 3, 3, 2, new byte[18], [0], 4, 4).Path);
        });
    }
}
