using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// The conv / FC epilogue on a tile row (<see cref="Requantization.ApplyToBytes"/>, with its constants built once a row)
/// against the scalar <see cref="Requantization.Apply(int, int)"/>, code for code, at every vector level this CPU runs:
/// both roundings, per-channel multipliers with right shifts on any accumulator and left shifts on accumulators small
/// enough not to overflow (as the converter guarantees), offsets, clamps of ReLU and of none, 1 to 4 live vectors.
/// </summary>
[Collection(SimdCollection.Name)]
public class RequantizationTests
{
    public static TheoryData<SimdLevel> Levels => SimdLevels.Vector;

    [Theory]
    [MemberData(nameof(Levels))]
    public unsafe void ApplyToBytes_EqualsScalarApply(SimdLevel level)
    {
        var rng = new Rng(23);
        int[] edges = [0, 1, -1, int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1, 1 << 30, -(1 << 30)];
        var acc = new int[64];
        var codes = new byte[64];
        for (int trial = 0; trial < 400; trial++)
        {
            int channels = 1 + rng.NextInt(3);
            var multipliers = new int[channels];
            var shifts = new int[channels];
            for (int c = 0; c < channels; c++)
            {
                multipliers[c] = (1 << 30) + rng.NextInt(1 << 30);
                shifts[c] = rng.NextInt(5) == 0 ? rng.NextInt(1, 12) : rng.NextInt(-31, 1);
            }
            int zy = rng.NextInt(256), lo = rng.NextInt(2) == 0 ? 0 : zy, hi = lo + rng.NextInt(256 - lo);
            var rq = new Requantization(multipliers, shifts, zy, lo, hi, trial % 2 == 0 ? RequantRounding.Double : RequantRounding.Single);
            int c0 = rng.NextInt(channels), vectors = 1 + rng.NextInt(4);
            int left = Math.Max(shifts[c0], 0);
            int offset = rng.NextInt(-1000, 1000) >> left;
            for (int i = 0; i < acc.Length; i++)
            {
                int x = rng.NextInt(8) == 0 ? edges[rng.NextInt(edges.Length)] : (int)rng.NextUInt64();
                // acc + offset must not overflow, and a left shift must not either (the converter's guarantee).
                acc[i] = (int)Math.Clamp((long)(x >> left) - offset, int.MinValue, int.MaxValue) >> (left > 0 ? 1 : 0);
            }
            Array.Fill(codes, (byte)0xAB);
            SimdLevels.With(level, () =>
            {
                fixed (int* a = acc)
                fixed (byte* y = codes)
                    rq.ApplyToBytes(a, vectors, offset, c0, y);
            });
            for (int i = 0; i < 64; i++)
                Assert.Equal(i < 16 * vectors ? rq.Apply(acc[i] + offset, c0) : 0xAB, codes[i]);
        }
    }
}
