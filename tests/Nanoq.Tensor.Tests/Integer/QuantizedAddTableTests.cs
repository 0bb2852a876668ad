using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Nanoq.Tests.Kernels;

namespace Nanoq.Tests.Integer;

/// <summary>
/// <see cref="QuantizedAddTable"/> against the scalar <see cref="QuantizedAdd.Apply"/>: every pair of codes of every
/// width split (k_a + k_b ≤ 8), lengths across the 64-code blocks and the tail, and inputs with codes outside their
/// grid — those blocks and tail elements go to the arithmetic, so the result equals <see cref="QuantizedAdd.Forward"/>
/// for any bytes — at each vector level the CPU has (AVX2's row lookups for codes of at most 4 bits, AVX-512 VBMI's
/// permutes where present).
/// </summary>
[Collection(SimdCollection.Name)]
public class QuantizedAddTableTests
{
    private static QuantizedAddParams RandomParams(Rng rng, int bitsA, int bitsB, int bitsY) => new(
        rng.NextInt(1 << bitsA), (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(1, 4),
        rng.NextInt(1 << bitsB), (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(1, 4),
        (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(17, 22), rng.NextInt(1 << bitsY), 0, (1 << bitsY) - 1);

    [Theory]
    [InlineData(4, 4)]
    [InlineData(1, 7)]
    [InlineData(7, 1)]
    [InlineData(3, 5)]
    [InlineData(2, 2)]
    public void Every_pair_and_every_length_equals_the_scalar(int bitsA, int bitsB)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => EveryPair(bitsA, bitsB));
    }

    private static void EveryPair(int bitsA, int bitsB)
    {
        var rng = new Rng((ulong)(bitsA * 10 + bitsB));
        for (int trial = 0; trial < 4; trial++)
        {
            var p = RandomParams(rng, bitsA, bitsB, 4);
            var table = new QuantizedAddTable(p, bitsA, bitsB);
            // Every pair, in one call (a long run of blocks).
            var a = new List<byte>();
            var b = new List<byte>();
            for (int x = 0; x < 1 << bitsA; x++)
                for (int z = 0; z < 1 << bitsB; z++) { a.Add((byte)x); b.Add((byte)z); }
            AssertEqualsScalar(table, [.. a], [.. b]);
            foreach (int n in new[] { 0, 1, 31, 32, 33, 63, 64, 65, 130, 1000 })
                AssertEqualsScalar(table, Codes(rng, n, bitsA), Codes(rng, n, bitsB));
        }
    }

    [Fact]
    public void Codes_outside_their_grid_are_computed_not_looked_up()
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, OutsideTheGrid);
    }

    private static void OutsideTheGrid()
    {
        var rng = new Rng(7);
        var p = RandomParams(rng, 4, 4, 8);
        var table = new QuantizedAddTable(p, 4, 4);
        foreach (int n in new[] { 64, 200, 1001 })
        {
            var a = Codes(rng, n, 4);
            var b = Codes(rng, n, 4);
            for (int k = 0; k < 5; k++) a[rng.NextInt(n)] = (byte)(16 + rng.NextInt(240));   // off the 4-bit grid
            b[n - 1] = 255;                                                                   // and one in the tail
            AssertEqualsScalar(table, a, b);
        }
    }

    [Fact]
    public void Refuses_widths_that_do_not_index_256_entries() =>
        Assert.Throws<ArgumentException>(() => new QuantizedAddTable(RandomParams(new Rng(1), 4, 4, 4), 5, 4));

    private static void AssertEqualsScalar(QuantizedAddTable table, byte[] a, byte[] b)
    {
        var y = new byte[a.Length];
        table.Forward(a, b, y);
        for (int i = 0; i < a.Length; i++) Assert.Equal(QuantizedAdd.Apply(a[i], b[i], table.Parameters), y[i]);
    }

    private static byte[] Codes(Rng rng, int n, int bits)
    {
        var c = new byte[n];
        for (int i = 0; i < n; i++) c[i] = (byte)rng.NextInt(1 << bits);
        return c;
    }
}
