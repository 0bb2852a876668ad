using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// Stride-2 convs over few channels run by phases (<see cref="IntConvPhases"/>, space-to-depth) give the strided conv's
/// codes exactly: against the scalar reference over channel counts 1–4, kernels 3–7, every padding up to half the
/// kernel, odd and even sizes, 4 and 8 bits — at each vector level the CPU has.
/// </summary>
[Collection(SimdCollection.Name)]
public class IntConvPhasesTests
{
    [TheoryRequires(Isa.Avx2)]
    [InlineData(4, 4)]
    [InlineData(8, 8)]
    public void Phases_give_the_strided_convs_codes(int inputBits, int weightBits)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => PhasesAt(inputBits, weightBits));
    }

    private static void PhasesAt(int inputBits, int weightBits)
    {
        var rng = new Rng((ulong)(300 + inputBits));
        int cases = 0;
        foreach (int k in new[] { 3, 4, 5, 7 })
            for (int pad = 0; pad <= k / 2; pad++)
                foreach (int cin in new[] { 1, 3, 4 })
                {
                    int h = rng.NextInt(k, 40), w = rng.NextInt(k, 140), n = rng.NextInt(1, 3), cout = rng.NextInt(1, 20);
                    var g = new Conv2dGeometry(n, cin, h, w, cout, k, k, 2, 2, pad, pad, 1, 1, 1);
                    Assert.True(IntConvPhases.Suits(cin, 1, k, k, 2, 2, 1, 1));
                    var data = IntConvData.Random(rng, g, inputBits, weightBits);
                    var phases = IntConvPhases.Pack(data.Pack(IntConvPath.Auto));
                    var y = new byte[g.OutputLength];
                    IntConvPhases.Forward(g, data.X, data.Zx, phases, data.Bias, data.Rq, y);
                    Assert.True(data.ReferenceCodes().AsSpan().SequenceEqual(y), $"{g}: codes differ");
                    cases++;
                }
        Assert.Equal(36, cases);
    }

    [Fact]
    public void Only_stride_2_convs_over_one_channel_unit_run_by_phases()
    {
        bool simd = IntConv2d.IsAccelerated;
        Assert.Equal(simd, IntConvPhases.Suits(3, 1, 7, 7, 2, 2, 1, 1));
        Assert.False(IntConvPhases.Suits(5, 1, 7, 7, 2, 2, 1, 1));   // two channel units
        Assert.False(IntConvPhases.Suits(3, 1, 7, 7, 1, 1, 1, 1));
        Assert.False(IntConvPhases.Suits(3, 1, 3, 3, 2, 2, 2, 2));
        Assert.False(IntConvPhases.Suits(3, 3, 3, 3, 2, 2, 1, 1));
        Assert.False(IntConvPhases.Suits(3, 1, 1, 1, 2, 2, 1, 1));
    }
}
