using System.Numerics;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Nanoq.Kernels.Integer;

namespace Nanoq.Kernels;

/// <summary>
/// The taps of a run of RoIs as <see cref="RoiAlignPlanner"/> makes them (its class comment has the rule), with the
/// scratch one RoI needs: appended in bin order, growing as needed, no allocation per bin. The output buffers are
/// rented from the shared array pool (a batch's plan has around a million taps); <see cref="Dispose"/> returns them.
///
/// <para><b>Separably.</b> A bin's sampling points are a grid: point (iy, ix) is on the map iff its row iy and its
/// column ix are, and its four taps are {low, high row} × {low, high column}. So the bin's pixels are the rows of its
/// on-map point rows × the columns of its on-map point columns — in ascending pixel order when both are ascending — and
/// pixel (r, c) receives, from each point (iy, ix) touching it, the term (w_y · w_x) / count, in point order (iy, ix).
/// Each axis's lines are therefore sorted once per pooled row or column of the RoI (<see cref="AxisLines"/>), and a
/// bin's ideal weights are the products of two short lists: the same float32 terms added in the same order as merging
/// the four taps of every point, with no search and no sort per bin. (A point on the last line has low = high and
/// weight 0 on the high side; that term adds exactly 0 and is not listed.) Grids of at most 2 × 2 points — torchvision's
/// sampling ratio 2 and below — list every point's weight on every line (0 where it does not touch it) so that a pixel
/// is a fixed handful of products (<see cref="AddSmallGridBin"/>), and bins of at most 16 pixels take their
/// largest-remainder units in two 8-lane vectors (<see cref="QuantizeSixteen"/>).</para>
/// </summary>
internal sealed class RoiAlignTaps : IDisposable
{
    private const double One = IntRoiAlignPlan.One;

    public int[] Index = ArrayPool<int>.Shared.Rent(4096);
    public int[] Weight = ArrayPool<int>.Shared.Rent(4096);
    public int Count;

    private RoiAlignSampling.Axis[] _points = [];
    private readonly AxisLines _rows = new(), _cols = new();
    private readonly SmallGridLines _smallRows = new(), _smallCols = new();
    private int[] _pixel = new int[64];     // one bin's pixels, ascending, and their ideal weights
    private double[] _ideal = new double[64];
    private long[] _units = new long[64];   // ⌊a_p · 2^22⌋, then + or − the remainder's units
    private double[] _remainder = new double[64];
    private int[] _order = new int[64];

    /// <summary>
    /// Appends the taps of every bin of one RoI (bin-major: ph, pw) on an h × w map and writes each bin's tap count to
    /// <paramref name="binTaps"/> (pooledH · pooledW entries).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddRoi(in RoiAlignSampling.Roi roi, int h, int w, int pooledH, int pooledW, Span<int> binTaps)
    {
        int gh = roi.GridH, gw = roi.GridW;
        if (roi.SamplesPerBin == 0)
        {
            binTaps.Clear();
            return;
        }
        int rows = pooledH * gh, cols = pooledW * gw;
        if (_points.Length < rows + cols) _points = new RoiAlignSampling.Axis[rows + cols];
        Span<RoiAlignSampling.Axis> ys = _points.AsSpan(0, rows), xs = _points.AsSpan(rows, cols);
        RoiAlignSampling.Axes(roi, h, w, pooledH, pooledW, ys, xs);
        if (gh <= 2 && gw <= 2)
        {
            _smallRows.Build(ys, pooledH, gh);
            _smallCols.Build(xs, pooledW, gw);
            for (int ph = 0; ph < pooledH; ph++)
                for (int pw = 0; pw < pooledW; pw++)
                    binTaps[ph * pooledW + pw] = AddSmallGridBin(ph, pw, w, gh, gw, 1f / roi.Count);
            return;
        }
        _rows.Build(ys, pooledH, gh);
        _cols.Build(xs, pooledW, gw);
        for (int ph = 0; ph < pooledH; ph++)
            for (int pw = 0; pw < pooledW; pw++)
                binTaps[ph * pooledW + pw] = AddBin(ph, pw, w, roi.Count);
    }

    /// <summary>Appends bin (ph, pw)'s taps (count: the RoI's points a bin); returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AddBin(int ph, int pw, int w, float count)
    {
        int r0 = _rows.Start[ph], r1 = _rows.Start[ph + 1], c0 = _cols.Start[pw], c1 = _cols.Start[pw + 1];
        if (r0 == r1 || c0 == c1) return 0;   // every point off the map: real 0, the zero point's share, no tap
        Reserve((r1 - r0) * (c1 - c0));
        // w / count in float32: where count is a power of two, w · (1 / count) is the same correctly rounded quotient.
        float inverse = 1f / count;
        bool scale = BitOperations.IsPow2((int)count) && count == (int)count;
        int[] rowLine = _rows.Line, colLine = _cols.Line;
        float[] rowWeight = _rows.Weight, colWeight = _cols.Weight;
        int m = 0;
        for (int i = r0, iEnd; i < r1; i = iEnd)
        {
            for (iEnd = i + 1; iEnd < r1 && rowLine[iEnd] == rowLine[i]; iEnd++) { }
            for (int j = c0, jEnd; j < c1; j = jEnd)
            {
                for (jEnd = j + 1; jEnd < c1 && colLine[jEnd] == colLine[j]; jEnd++) { }
                double a = 0;
                for (int ii = i; ii < iEnd; ii++)
                    for (int jj = j; jj < jEnd; jj++)
                    {
                        float product = rowWeight[ii] * colWeight[jj];
                        a += scale ? product * inverse : product / count;
                    }
                _pixel[m] = rowLine[i] * w + colLine[j];
                _ideal[m++] = a;
            }
        }
        return Quantize(m);
    }

    /// <summary>
    /// <see cref="AddBin"/> for grids of at most 2 × 2 points (torchvision's sampling ratio 2 and below): every line
    /// lists a weight for each point, 0 where the point does not touch it, so a pixel's terms are a fixed 2 × 2 (or
    /// fewer) products in point order — the zero terms add exactly 0 — and the loops have no data-dependent trip
    /// counts. count = grid_h · grid_w ∈ {1, 2, 4}: w · (1 / count) is the float32 quotient.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AddSmallGridBin(int ph, int pw, int w, int gh, int gw, float inverse)
    {
        int rows = _smallRows.Count[ph], cols = _smallCols.Count[pw];
        if (rows == 0 || cols == 0) return 0;   // every point off the map: real 0, the zero point's share, no tap
        Reserve(rows * cols);
        int[] rowLine = _smallRows.Line, colLine = _smallCols.Line;
        float[] rowWeight = _smallRows.Weight, colWeight = _smallCols.Weight;
        int m = 0;
        for (int i = 0; i < rows; i++)
        {
            int ri = SmallGridLines.Lines * ph + i;
            float y0 = rowWeight[2 * ri], y1 = rowWeight[2 * ri + 1];
            int rowStart = rowLine[ri] * w;
            for (int j = 0; j < cols; j++)
            {
                int cj = SmallGridLines.Lines * pw + j;
                float x0 = colWeight[2 * cj], x1 = colWeight[2 * cj + 1];
                double a = y0 * x0 * inverse;
                if (gw == 2) a += y0 * x1 * inverse;
                if (gh == 2)
                {
                    a += y1 * x0 * inverse;
                    if (gw == 2) a += y1 * x1 * inverse;
                }
                _pixel[m] = rowStart + colLine[cj];
                _ideal[m++] = a;
            }
        }
        return Quantize(m);
    }

    /// <summary>The bin's m ideal weights (pixels ascending) to Q22 by the largest-remainder rule; appends the non-zero taps.</summary>
    private int Quantize(int m)
    {
        double total = 0;
        for (int i = 0; i < m; i++) total += _ideal[i];
        long target = Math.Min((long)One, (long)Math.Round(total * One, MidpointRounding.ToEven));
        if (m <= 16 && Vector512.IsHardwareAccelerated && QuantizeSixteen(m, target, out int taps)) return taps;
        long sum = 0;
        for (int i = 0; i < m; i++)
        {
            double scaled = _ideal[i] * One;
            _units[i] = (long)Math.Floor(scaled);
            _remainder[i] = scaled - _units[i];
            sum += _units[i];
        }
        long deficit = target - sum;
        if (deficit > 0 && deficit <= m && m <= 32)
        {
            // The usual case: the `deficit` largest remainders gain a unit — i.e. each pixel whose rank (larger
            // remainders, then equal ones at lower pixels) is below it; counted without branches (m ≤ 16 at sampling 2; larger bins sort).
            for (int i = 0; i < m; i++)
            {
                double r = _remainder[i];
                int rank = 0;
                for (int j = 0; j < i; j++) rank += _remainder[j] >= r ? 1 : 0;
                for (int j = i + 1; j < m; j++) rank += _remainder[j] > r ? 1 : 0;
                _units[i] += rank < deficit ? 1 : 0;
            }
        }
        else if (deficit != 0)
        {
            // _order: by remainder, largest first; ties to the lower pixel (insertion keeps index order on ties).
            for (int i = 0; i < m; i++)
            {
                int j = i - 1;
                for (; j >= 0 && _remainder[_order[j]] < _remainder[i]; j--) _order[j + 1] = _order[j];
                _order[j + 1] = i;
            }
            // Largest remainders first gain a unit (round and round if more than m); smallest first lose one if the
            // floors overshoot.
            for (int i = 0; sum < target; i = i + 1 == m ? 0 : i + 1) { _units[_order[i]]++; sum++; }
            for (int i = m - 1; sum > target; i = i == 0 ? m - 1 : i - 1)
                if (_units[_order[i]] > 0) { _units[_order[i]]--; sum--; }
        }
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

    /// <summary>
    /// <see cref="Quantize"/>'s usual case in two 8-lane vectors (m ≤ 16, 0 &lt; deficit ≤ m): the same floors and
    /// remainders, and pixel i gains a unit iff its rank — remainders greater, then equal ones at lower pixels — is
    /// below the deficit, each rank two mask compares and popcounts. False (nothing written) otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool QuantizeSixteen(int m, long target, out int taps)
    {
        var one = Vector512.Create(One);
        ref double ideal = ref _ideal[0];   // ≥ 64 entries: lanes past m are stale and masked off
        Vector512<double> s0 = Vector512.LoadUnsafe(ref ideal) * one, s1 = Vector512.LoadUnsafe(ref ideal, 8) * one;
        Vector512<double> f0 = Vector512.Floor(s0), f1 = Vector512.Floor(s1);
        var lanes = Vector512.Create(0.0, 1, 2, 3, 4, 5, 6, 7);
        Vector512<double> live0 = Vector512.LessThan(lanes, Vector512.Create((double)m)),
                          live1 = Vector512.LessThan(lanes + Vector512.Create(8.0), Vector512.Create((double)m));
        Vector512<long> u0 = Vector512.ConvertToInt64(f0) & live0.AsInt64(), u1 = Vector512.ConvertToInt64(f1) & live1.AsInt64();
        long deficit = target - Vector512.Sum(u0 + u1);
        taps = 0;
        if (deficit <= 0 || deficit > m) return false;
        var none = Vector512.Create(-1.0);   // below every remainder (all ≥ 0)
        Vector512<double> r0 = Vector512.ConditionalSelect(live0, s0 - f0, none), r1 = Vector512.ConditionalSelect(live1, s1 - f1, none);
        Span<double> remainder = stackalloc double[16];
        Span<long> units = stackalloc long[16];
        r0.CopyTo(remainder);
        r1.CopyTo(remainder[8..]);
        u0.CopyTo(units);
        u1.CopyTo(units[8..]);
        int count = Count;
        for (int i = 0; i < m; i++)
        {
            var r = Vector512.Create(remainder[i]);
            uint greater = (uint)(Vector512.GreaterThan(r0, r).ExtractMostSignificantBits() | Vector512.GreaterThan(r1, r).ExtractMostSignificantBits() << 8);
            uint equal = (uint)(Vector512.Equals(r0, r).ExtractMostSignificantBits() | Vector512.Equals(r1, r).ExtractMostSignificantBits() << 8);
            int rank = BitOperations.PopCount(greater) + BitOperations.PopCount(equal & ((1u << i) - 1));
            long u = units[i] + (rank < deficit ? 1 : 0);
            if (u == 0) continue;
            Index[count] = _pixel[i];
            Weight[count++] = (int)u;
        }
        taps = count - Count;
        Count = count;
        return true;
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

    /// <summary>
    /// One axis of a RoI's points, per pooled index p (a bin row or column): the lines its on-map points touch with
    /// their weights — (low, w_low) and, unless the point sits on the last line, (high, w_high) — stably sorted by
    /// line, so each line's weights come in point order. Pooled index p owns entries [Start[p], Start[p + 1]).
    /// </summary>
    private sealed class AxisLines
    {
        public int[] Line = new int[32];
        public float[] Weight = new float[32];
        public int[] Start = new int[16];

        public void Build(ReadOnlySpan<RoiAlignSampling.Axis> points, int pooled, int grid)
        {
            if (Line.Length < 2 * points.Length)
            {
                Line = new int[2 * points.Length];
                Weight = new float[2 * points.Length];
            }
            if (Start.Length < pooled + 1) Start = new int[pooled + 1];
            int n = 0;
            for (int p = 0; p < pooled; p++)
            {
                int first = Start[p] = n;
                foreach (ref readonly var a in points.Slice(p * grid, grid))
                {
                    if (a.Off) continue;
                    Insert(ref n, first, a.Low, a.H);
                    if (a.High != a.Low) Insert(ref n, first, a.High, a.L);
                }
            }
            Start[pooled] = n;
        }

        /// <summary>Inserts after every entry of a line ≤ <paramref name="line"/> (stable: equal lines keep point order).</summary>
        private void Insert(ref int n, int first, int line, float weight)
        {
            int j = n - 1;
            for (; j >= first && Line[j] > line; j--)
            {
                Line[j + 1] = Line[j];
                Weight[j + 1] = Weight[j];
            }
            Line[j + 1] = line;
            Weight[j + 1] = weight;
            n++;
        }
    }

    /// <summary>
    /// One axis of a RoI's points for grids of at most 2 points a side, per pooled index p: its distinct lines
    /// ascending (up to <see cref="Lines"/>: two points, a low and a high line each), Line[Lines·p + j], and each
    /// line's weight from point i ∈ {0, 1}, Weight[2·(Lines·p + j) + i] — 0 where the point is off the map or does not
    /// touch the line.
    /// </summary>
    private sealed class SmallGridLines
    {
        public const int Lines = 4;
        public int[] Count = new int[16];
        public int[] Line = new int[Lines * 16];
        public float[] Weight = new float[2 * Lines * 16];

        public void Build(ReadOnlySpan<RoiAlignSampling.Axis> points, int pooled, int grid)
        {
            if (Count.Length < pooled)
            {
                Count = new int[pooled];
                Line = new int[Lines * pooled];
                Weight = new float[2 * Lines * pooled];
            }
            for (int p = 0; p < pooled; p++)
            {
                var lines = Line.AsSpan(Lines * p, Lines);
                int n = 0;
                foreach (ref readonly var a in points.Slice(p * grid, grid))
                {
                    if (a.Off) continue;
                    Add(lines, ref n, a.Low);
                    Add(lines, ref n, a.High);
                }
                Count[p] = n;
                var weights = Weight.AsSpan(2 * Lines * p, 2 * Lines);
                weights.Clear();
                for (int i = 0; i < grid; i++)
                {
                    ref readonly var a = ref points[p * grid + i];
                    if (a.Off) continue;
                    weights[2 * lines[..n].IndexOf(a.Low) + i] = a.H;
                    if (a.High != a.Low) weights[2 * lines[..n].IndexOf(a.High) + i] = a.L;
                }
            }
        }

        /// <summary>Inserts a line into the ascending distinct list unless it is there.</summary>
        private static void Add(Span<int> lines, ref int n, int line)
        {
            int j = n - 1;
            for (; j >= 0 && lines[j] > line; j--) { }
            if (j >= 0 && lines[j] == line) return;
            for (int k = n - 1; k > j; k--) lines[k + 1] = lines[k];
            lines[j + 1] = line;
            n++;
        }
    }
}
