using System.Numerics;
using System.Runtime.CompilerServices;

namespace Nanoq;

/// <summary>
/// The one seeded random generator every random draw goes through, so a run is reproducible from its seed
/// (DESIGN.md §2). xoshiro256** (Blackman and Vigna) seeded by SplitMix64; the same seed gives the same
/// stream on every machine and .NET version (unlike <see cref="System.Random"/>'s unseeded algorithm).
/// Not thread-safe: give each thread its own via <see cref="Fork"/>.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private float? _spareNormal;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>
    /// An independent stream number <paramref name="stream"/> of <paramref name="seed"/> (e.g. image i of a data set,
    /// epoch e of a loader), without drawing from any generator: work split over threads stays reproducible.
    /// </summary>
    public static Rng Derive(ulong seed, ulong stream) =>
        new(seed * 0x9E3779B97F4A7C15UL ^ (stream + 0x632BE59BD9B4E019UL) * 0xBF58476D1CE4E5B9UL);

    /// <summary>A new generator whose stream is independent of this one's continuation.</summary>
    public Rng Fork() => new(NextUInt64());

    /// <summary>Uniform in [0, 1) with 24 random bits (every float in the grid k·2⁻²⁴ equally likely).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public float Uniform(float lo, float hi) => lo + (hi - lo) * NextFloat();

    /// <summary>Uniform in [lo, hi), 53-bit.</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n), without modulo bias (Lemire's method).</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ulong m = (ulong)(uint)NextUInt64() * (uint)n;
        if ((uint)m < (uint)n)
        {
            uint threshold = (uint)(-n) % (uint)n;
            while ((uint)m < threshold) m = (ulong)(uint)NextUInt64() * (uint)n;
        }
        return (int)(m >> 32);
    }

    /// <summary>Uniform integer in [lo, hi).</summary>
    public int NextInt(int lo, int hi) => lo + NextInt(hi - lo);

    /// <summary>Standard normal N(0, 1) by the Box–Muller transform (pairs; the second value is kept).</summary>
    public float Normal()
    {
        if (_spareNormal is float spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = (float)(r * Math.Sin(2 * Math.PI * u2));
        return (float)(r * Math.Cos(2 * Math.PI * u2));
    }

    public float Normal(float mean, float std) => mean + std * Normal();

    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>A uniformly random permutation of 0..n−1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Shuffle<int>(p);
        return p;
    }

    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    public void FillUniform(Span<float> dst, float lo, float hi)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = Uniform(lo, hi);
    }

    public void FillNormal(Span<float> dst, float mean, float std)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = Normal(mean, std);
    }

    public Tensor Uniform(Shape shape, float lo, float hi)
    {
        var t = Tensor.Empty(shape);
        FillUniform(t.Span, lo, hi);
        return t;
    }

    public Tensor Normal(Shape shape, float mean = 0f, float std = 1f)
    {
        var t = Tensor.Empty(shape);
        FillNormal(t.Span, mean, std);
        return t;
    }
}
