using System.Numerics;
using System.Runtime.Intrinsics;
using Nanoq.Kernels.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// The fixed-point primitives against exact BigInteger arithmetic: SaturatingRoundingDoublingHighMul is
/// ⌊(a·b + 2^30) / 2^31⌋ (nearest, ties up) except the saturating corner, RoundingDivideByPOT is x / 2^e to nearest with
/// ties away from zero, and MultiplyByQuantizedMultiplier is their composition, within one unit of x·M0·2^shift/2^31.
/// The 16-lane forms must agree bit for bit with the scalar ones.
/// </summary>
public class FixedPointTests
{
    private static readonly int[] Edges = BuildEdges();

    private static int[] BuildEdges()
    {
        var list = new List<int> { 0, 1, -1, 2, -2, 3, -3, int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1 };
        for (int i = 1; i < 31; i++)
        {
            int p = 1 << i;
            list.AddRange([p, p - 1, p + 1, -p, -p + 1, -p - 1]);
        }
        return list.ToArray();
    }

    private static IEnumerable<(int, int)> Pairs()
    {
        foreach (int a in Edges)
            foreach (int b in Edges)
                yield return (a, b);
        var rng = new Rng(7);
        for (int i = 0; i < 20000; i++) yield return ((int)rng.NextUInt64(), (int)rng.NextUInt64());
    }

    /// <summary>Exact: round(a·b / 2^31) with ties toward +∞, computed as ⌊(a·b + 2^30) / 2^31⌋ on unbounded integers.</summary>
    private static int ExactHighMul(int a, int b)
    {
        var p = (BigInteger)a * b + (BigInteger.One << 30);
        var q = BigInteger.DivRem(p, BigInteger.One << 31, out var r);
        if (r.Sign < 0) q -= 1; // floor
        if (q > int.MaxValue) return int.MaxValue; // only a = b = −2^31
        return (int)q;
    }

    /// <summary>Exact: x / 2^e to nearest, ties away from zero.</summary>
    private static int ExactDivideByPOT(int x, int e)
    {
        if (e == 0) return x;
        var ax = BigInteger.Abs(x);
        var q = (ax + (BigInteger.One << (e - 1))) >> e;
        return (int)(x < 0 ? -q : q);
    }

    [Fact]
    public void HighMul_HandCases()
    {
        // 2^30 · 2^30 / 2^31 = 2^29 exactly.
        Assert.Equal(1 << 29, FixedPoint.SaturatingRoundingDoublingHighMul(1 << 30, 1 << 30));
        // 1 · 2^30 / 2^31 = 0.5 → 1 (tie up);  −1 · 2^30 / 2^31 = −0.5 → 0 (tie up, toward +∞).
        Assert.Equal(1, FixedPoint.SaturatingRoundingDoublingHighMul(1, 1 << 30));
        Assert.Equal(0, FixedPoint.SaturatingRoundingDoublingHighMul(-1, 1 << 30));
        // 3 · 2^30 / 2^31 = 1.5 → 2;  −3 · 2^30 / 2^31 = −1.5 → −1.
        Assert.Equal(2, FixedPoint.SaturatingRoundingDoublingHighMul(3, 1 << 30));
        Assert.Equal(-1, FixedPoint.SaturatingRoundingDoublingHighMul(-3, 1 << 30));
        // (−2^31)·(−2^31)/2^31 = 2^31 does not fit: saturates.
        Assert.Equal(int.MaxValue, FixedPoint.SaturatingRoundingDoublingHighMul(int.MinValue, int.MinValue));
        // (−2^31)·(2^31 − 1)/2^31 = −(2^31 − 1) exactly.
        Assert.Equal(-int.MaxValue, FixedPoint.SaturatingRoundingDoublingHighMul(int.MinValue, int.MaxValue));
    }

    [Fact]
    public void HighMul_EqualsExact()
    {
        foreach (var (a, b) in Pairs())
            Assert.True(ExactHighMul(a, b) == FixedPoint.SaturatingRoundingDoublingHighMul(a, b), $"SRDHM({a}, {b})");
    }

    [Fact]
    public void DivideByPOT_HandCases()
    {
        // 5 / 2 = 2.5 → 3;  −5 / 2 = −2.5 → −3 (ties away from zero);  7 / 4 = 1.75 → 2;  −7 / 4 → −2;  6 / 4 = 1.5 → 2.
        Assert.Equal(3, FixedPoint.RoundingDivideByPOT(5, 1));
        Assert.Equal(-3, FixedPoint.RoundingDivideByPOT(-5, 1));
        Assert.Equal(2, FixedPoint.RoundingDivideByPOT(7, 2));
        Assert.Equal(-2, FixedPoint.RoundingDivideByPOT(-7, 2));
        Assert.Equal(2, FixedPoint.RoundingDivideByPOT(6, 2));
        Assert.Equal(-1, FixedPoint.RoundingDivideByPOT(int.MinValue, 31));
        Assert.Equal(1, FixedPoint.RoundingDivideByPOT(int.MaxValue, 31));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.RoundingDivideByPOT(1, 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.RoundingDivideByPOT(1, -1));
    }

    [Fact]
    public void DivideByPOT_EqualsExact()
    {
        var rng = new Rng(8);
        var xs = Edges.Concat(Enumerable.Range(0, 3000).Select(_ => (int)rng.NextUInt64())).ToArray();
        for (int e = 0; e <= 31; e++)
            foreach (int x in xs)
                Assert.True(ExactDivideByPOT(x, e) == FixedPoint.RoundingDivideByPOT(x, e), $"RDBPOT({x}, {e})");
    }

    [Fact]
    public void MultiplyByQuantizedMultiplier_IsTheCompositionAndWithinOneOfExact()
    {
        var rng = new Rng(9);
        for (int i = 0; i < 40000; i++)
        {
            int m0 = (1 << 30) + rng.NextInt(1 << 30);          // [2^30, 2^31)
            int shift = rng.NextInt(-31, 31);                     // [−31, 30]
            int left = shift > 0 ? shift : 0;
            // |x·2^left| < 2^31: the precondition.
            int bound = (int)Math.Min(int.MaxValue, (1L << (31 - left)) - 1);
            int x = i < Edges.Length ? Math.Clamp(Edges[i], -bound, bound) : (int)(rng.NextUInt64() % (ulong)bound) * (rng.Bernoulli(0.5) ? 1 : -1);
            int got = FixedPoint.MultiplyByQuantizedMultiplier(x, m0, shift);
            int composed = ExactDivideByPOT(ExactHighMul(x * (1 << left), m0), shift > 0 ? 0 : -shift);
            Assert.True(composed == got, $"MBQM({x}, {m0}, {shift})");
            // Exact real value x·M0·2^shift / 2^31: the result is within one unit (two roundings of ½ each).
            var num = (BigInteger)x * m0;
            int e = 31 - shift;                                   // value = num / 2^e
            var scaledGot = (BigInteger)got << e;
            Assert.True(BigInteger.Abs(scaledGot - num) <= BigInteger.One << e, $"MBQM({x}, {m0}, {shift}) = {got} not within 1 of exact");
        }
    }

    [Fact]
    public void SingleRounding_EqualsExactRoundHalfUp()
    {
        var rng = new Rng(11);
        for (int i = 0; i < 40000; i++)
        {
            int m0 = i % 7 == 0 ? 0 : (1 << 30) + rng.NextInt(1 << 30);
            int shift = rng.NextInt(-31, 31);
            int left = shift > 0 ? shift : 0;
            int bound = (int)Math.Min(int.MaxValue, (1L << (31 - left)) - 1);
            int x = i < Edges.Length ? Math.Clamp(Edges[i], -bound, bound) : (int)(rng.NextUInt64() % (ulong)bound) * (rng.Bernoulli(0.5) ? 1 : -1);
            int total = 31 - shift;
            // ⌊(x·M0 + 2^(total−1)) / 2^total⌋: x·M0·2^shift/2^31 to nearest, ties up.
            var num = (BigInteger)x * m0 + (BigInteger.One << (total - 1));
            var q = BigInteger.DivRem(num, BigInteger.One << total, out var r);
            if (r.Sign < 0) q -= 1;
            Assert.True((int)q == FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, m0, shift), $"single({x}, {m0}, {shift})");
        }
        // 5 · 0.5 = 2.5 → 3 (tie up); −5 · 0.5 = −2.5 → −2.
        Assert.Equal(3, FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(5, 1 << 30, 0));
        Assert.Equal(-2, FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(-5, 1 << 30, 0));
    }

    [Fact]
    public void MultiplyByQuantizedMultiplier_RejectsBadParameters()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplier(1, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplier(1, 1 << 30, 31));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplier(1, 1 << 30, -32));
    }

    /// <summary>The 16-lane (AVX-512) forms against the scalar ones; without AVX-512BW this reports as skipped.</summary>
    [FactRequires(Isa.Avx512BW)]
    public void VectorForms_MatchScalar()
    {
        CheckPerTensorForms(16, 10,
            (x, e) => ToArray(FixedPoint.RoundingDivideByPOT(Vector512.Create(x), e)),
            (x, m, sh) => ToArray(FixedPoint.MultiplyByQuantizedMultiplier(Vector512.Create(x), m, sh)),
            (x, m, sh) => ToArray(FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(Vector512.Create(x), m, sh)));
        // The saturating high multiply with lane-wise operands (the lane-wise forms below use it).
        foreach (var chunk in Pairs().Chunk(16).Where(c => c.Length == 16))
        {
            var hm = FixedPoint.SaturatingRoundingDoublingHighMul(Vector512.Create(chunk.Select(p => p.Item1).ToArray()),
                Vector512.Create(chunk.Select(p => p.Item2).ToArray()));
            for (int j = 0; j < 16; j++) Assert.Equal(FixedPoint.SaturatingRoundingDoublingHighMul(chunk[j].Item1, chunk[j].Item2), hm[j]);
        }
    }

    /// <summary>The 8-lane (AVX2) forms the kernels use (one M0 ≥ 0 and shift for all lanes) against the scalar ones.</summary>
    [FactRequires(Isa.Avx2)]
    public void VectorForms256_MatchScalar() =>
        CheckPerTensorForms(8, 12,
            (x, e) => ToArray(FixedPoint.RoundingDivideByPOT(Vector256.Create(x), e)),
            (x, m, sh) => ToArray(FixedPoint.MultiplyByQuantizedMultiplier(Vector256.Create(x), m, sh)),
            (x, m, sh) => ToArray(FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(Vector256.Create(x), m, sh)));

    private static int[] ToArray(Vector512<int> v) { var a = new int[16]; v.CopyTo(a); return a; }

    private static int[] ToArray(Vector256<int> v) { var a = new int[8]; v.CopyTo(a); return a; }

    /// <summary>
    /// The per-tensor forms of one width (<paramref name="lanes"/>) against the scalar ones over <see cref="Pairs"/>:
    /// division by a random power of two, both roundings with right shifts on any input and left shifts on inputs small
    /// enough not to overflow (|x| &lt; 2^(31 − left), as the converter guarantees), M0 ≥ 0.
    /// </summary>
    private static void CheckPerTensorForms(int lanes, ulong seed, Func<int[], int, int[]> divide,
        Func<int[], int, int, int[]> multiply, Func<int[], int, int, int[]> single)
    {
        var rng = new Rng(seed);
        foreach (var chunk in Pairs().Chunk(lanes).Where(c => c.Length == lanes))
        {
            var a = chunk.Select(p => p.Item1).ToArray();
            int e = rng.NextInt(32);
            int m0 = chunk[0].Item2 & int.MaxValue;
            int shift = rng.NextInt(-31, 1);
            int left = rng.NextInt(1, 31);
            var small = a.Select(x => x >> left).ToArray();
            var dp = divide(a, e);
            var mq = multiply(a, m0, shift);
            var ml = multiply(small, m0, left);
            var sr = single(a, m0, shift);
            var sl = single(small, m0, left);
            for (int j = 0; j < lanes; j++)
            {
                Assert.Equal(FixedPoint.RoundingDivideByPOT(a[j], e), dp[j]);
                Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplier(a[j], m0, shift), mq[j]);
                Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplier(small[j], m0, left), ml[j]);
                Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(a[j], m0, shift), sr[j]);
                Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(small[j], m0, left), sl[j]);
            }
        }
    }

    /// <summary>
    /// The lane-wise forms (each lane its own M0 and shift, a fully connected layer's outputs side by side) against the
    /// scalar ones: shifts anywhere in [−31, 30], right shifts on any input, left shifts on inputs small enough not to
    /// overflow (as the converter guarantees), both roundings.
    /// </summary>
    [FactRequires(Isa.Avx512BW)]
    public void LaneWiseForms_MatchScalar() =>
        CheckLaneWiseForms(16, (x, m, sh) =>
        {
            var (vx, vm, vs) = (Vector512.Create(x), Vector512.Create(m), Vector512.Create(sh));
            return (ToArray(FixedPoint.MultiplyByQuantizedMultiplier(vx, vm, vs)), ToArray(FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(vx, vm, vs)));
        });

    /// <summary>The 8-lane (AVX2) lane-wise forms (the panel FC's epilogue without AVX-512) against the scalar ones.</summary>
    [FactRequires(Isa.Avx2)]
    public void LaneWiseForms256_MatchScalar() =>
        CheckLaneWiseForms(8, (x, m, sh) =>
        {
            var (vx, vm, vs) = (Vector256.Create(x), Vector256.Create(m), Vector256.Create(sh));
            return (ToArray(FixedPoint.MultiplyByQuantizedMultiplier(vx, vm, vs)), ToArray(FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(vx, vm, vs)));
        });

    private static void CheckLaneWiseForms(int lanes, Func<int[], int[], int[], (int[] Double, int[] Single)> forms)
    {
        var rng = new Rng(11);
        var pairs = Pairs().ToArray();
        var x = new int[lanes];
        var m = new int[lanes];
        var sh = new int[lanes];
        for (int i = 0; i + lanes <= pairs.Length; i += lanes)
        {
            for (int j = 0; j < lanes; j++)
            {
                m[j] = pairs[i + j].Item2 & int.MaxValue;
                sh[j] = rng.NextInt(4) == 0 ? rng.NextInt(1, 31) : rng.NextInt(-31, 1);
                x[j] = sh[j] > 0 ? pairs[i + j].Item1 >> sh[j] : pairs[i + j].Item1;
            }
            var (d, single) = forms(x, m, sh);
            for (int j = 0; j < lanes; j++)
            {
                Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplier(x[j], m[j], sh[j]), d[j]);
                Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x[j], m[j], sh[j]), single[j]);
            }
        }
    }
}
