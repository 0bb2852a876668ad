using System.Numerics;
using System.Buffers;
using System.Runtime.CompilerServices;
using Nanoq.Kernels.Integer;

namespace Nanoq.Kernels;

/// <summary>
/// The taps of a run of bins as <see cref="RoiAlignPlanner"/> makes them (its class comment has the rule), with the
/// scratch one bin needs: appended in bin order, growing as needed, no allocation per bin. The output buffers are
/// rented from the shared array pool (a batch's plan has around a million taps); <see cref="Dispose"/> returns them.
/// </summary>
internal sealed class RoiAlignTaps : IDisposable
{
    private const double One = IntRoiAlignPlan.One;

    public int[] Index = ArrayPool<int>.Shared.Rent(4096);
    public int[] Weight = ArrayPool<int>.Shared.Rent(4096);
    public int Count;

    private RoiAlignSampling.Sample[] _samples = [];
    private int[] _pixel = new int[64];     // one bin's taps: pixel, ideal weight; then merged per pixel
    private double[] _ideal = new double[64];
    private long[] _units = new long[64];   // merged: ⌊a_p · 2^22⌋, then + or − the remainder's units
    private double[] _remainder = new double[64];
    private int[] _order = new int[64];

    /// <summary>Scratch for a RoI's sampling points.</summary>
    public Span<RoiAlignSampling.Sample> Samples(int count)
    {
        if (_samples.Length < count) _samples = new RoiAlignSampling.Sample[count];
        return _samples.AsSpan(0, count);
    }

    /// <summary>Appends one bin's taps from its sampling points (count: the RoI's points a bin); returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int AddBin(ReadOnlySpan<RoiAlignSampling.Sample> samples, float count)
    {
        int m = 0;
        Reserve(4 * samples.Length);
        // w / count in float32: where count is a power of two, w · (1 / count) is the same correctly rounded quotient.
        float inverse = 1f / count;
        bool scale = BitOperations.IsPow2((int)count) && count == (int)count;
        // Each pixel's ideal weight is its first term, then += each later one, in the order of the sampling points —
        // the additions a stable sort by pixel followed by a merge would make; then the pixels in ascending order.
        foreach (var s in samples)
        {
            if (s.OffMap) continue;   // real 0: the zero point's share, no tap
            if (scale)
            {
                Merge(ref m, s.P1, s.W1 * inverse);
                Merge(ref m, s.P2, s.W2 * inverse);
                Merge(ref m, s.P3, s.W3 * inverse);
                Merge(ref m, s.P4, s.W4 * inverse);
            }
            else
            {
                Merge(ref m, s.P1, s.W1 / count);
                Merge(ref m, s.P2, s.W2 / count);
                Merge(ref m, s.P3, s.W3 / count);
                Merge(ref m, s.P4, s.W4 / count);
            }
        }
        if (m == 0) return 0;
        for (int i = 1; i < m; i++)   // insertion sort of the (distinct) pixels
        {
            int p = _pixel[i];
            double a = _ideal[i];
            int j = i - 1;
            for (; j >= 0 && _pixel[j] > p; j--)
            {
                _pixel[j + 1] = _pixel[j];
                _ideal[j + 1] = _ideal[j];
            }
            _pixel[j + 1] = p;
            _ideal[j + 1] = a;
        }
        double total = 0;
        for (int i = 0; i < m; i++) total += _ideal[i];
        long target = Math.Min((long)One, (long)Math.Round(total * One, MidpointRounding.ToEven));
        long sum = 0;
        for (int i = 0; i < m; i++)
        {
            double scaled = _ideal[i] * One;
            _units[i] = (long)Math.Floor(scaled);
            _remainder[i] = scaled - _units[i];
            sum += _units[i];
            // _order: by remainder, largest first; ties to the lower pixel (insertion keeps index order on ties).
            int j = i - 1;
            for (; j >= 0 && _remainder[_order[j]] < _remainder[i]; j--) _order[j + 1] = _order[j];
            _order[j + 1] = i;
        }
        // Largest remainders first gain a unit; smallest first lose one if the floors overshoot.
        for (int i = 0; sum < target; i = i + 1 == m ? 0 : i + 1) { _units[_order[i]]++; sum++; }
        for (int i = m - 1; sum > target; i = i == 0 ? m - 1 : i - 1)
            if (_units[_order[i]] > 0) { _units[_order[i]]--; sum--; }
        int added = 0;
        for (int i = 0; i < m; i++)
        {
            if (_units[i] == 0) continue;
            Index[Count] = _pixel[i];
            Weight[Count++] = (int)_units[i];
            added++;
        }
        return added;
    }

    /// <summary>Adds a term to its pixel's entry (searched from the newest: a pixel's taps come close together), or opens one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Merge(ref int m, int pixel, float term)
    {
        for (int j = m - 1; j >= 0; j--)
            if (_pixel[j] == pixel)
            {
                _ideal[j] += term;
                return;
            }
        _pixel[m] = pixel;
        _ideal[m++] = term;
    }

    /// <summary>Room for a bin of up to <paramref name="taps"/> taps, in the scratch and at the end of the output.</summary>
    private void Reserve(int taps)
    {
        if (_pixel.Length < taps)
        {
            int size = Math.Max(taps, 2 * _pixel.Length);
            _pixel = new int[size]; _ideal = new double[size]; _units = new long[size]; _remainder = new double[size]; _order = new int[size];
        }
        if (Index.Length < Count + taps)
        {
            int size = Math.Max(Count + taps, 2 * Index.Length);
            Index = Grow(Index, size);
            Weight = Grow(Weight, size);
        }
    }

    private int[] Grow(int[] buffer, int size)
    {
        var larger = ArrayPool<int>.Shared.Rent(size);
        buffer.AsSpan(0, Count).CopyTo(larger);
        ArrayPool<int>.Shared.Return(buffer);
        return larger;
    }

    public void Dispose()
    {
        ArrayPool<int>.Shared.Return(Index);
        ArrayPool<int>.Shared.Return(Weight);
        Index = Weight = [];
    }
}
