using System.Numerics;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
/// weight 0 on the high side; that term adds exactly 0 and is not listed.) With AVX2 or AVX-512, grids of at most
/// 2 × 2 points — torchvision's sampling ratio 2 and below — take a bin in 16 lanes instead
/// (<see cref="AddSmallGridBin"/>): every point's weight on every line (0 where it does not touch it), a pixel a lane,
/// the units by counted ranks.</para>
/// </summary>
/// <param name="lanes">Whether grids of at most 2 × 2 points take the 16-lane path.</param>
/// <param name="capacity">Taps to rent room for at once (a run of RoIs at <see cref="MaxSmallGridTaps"/> a bin): growing
/// from a small buffer copied the taps five or six times over (0.7 % of the integer Faster R-CNN's batch-8 profile, in
/// <c>Grow</c>'s copies).</param>
internal sealed class RoiAlignTaps(bool lanes, int capacity = 4096) : IDisposable
{
    private const double One = IntRoiAlignPlan.One;

    /// <summary>The most taps a bin of a grid of at most 2 × 2 points has (torchvision's sampling ratio 2): 4 × 4 pixels.</summary>
    public const int MaxSmallGridTaps = SmallGridLines.Lines * SmallGridLines.Lines;

    public int[] Index = ArrayPool<int>.Shared.Rent(capacity);
    public int[] Weight = ArrayPool<int>.Shared.Rent(capacity);
    public int Count;

    private RoiAlignSampling.Axis[] _points = [];
    private readonly AxisLines _rows = new(), _cols = new();
    private readonly SmallGridLines _smallRows = new(), _smallCols = new();
    private int[] _pixel = new int[64];     // one bin's pixels, ascending, and their ideal weights
    private double[] _ideal = new double[64];
    private long[] _units = new long[64];   // ⌊a_p · 2^22⌋, then + or − the remainder's units
    private double[] _remainder = new double[64];
    private int[] _order = new int[64];
    private readonly bool _wide = Simd.Is512;   // the 16-lane path's form: one 512-bit vector or two 256-bit ones

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
        if (lanes && gh <= 2 && gw <= 2)
        {
            _smallRows.Build(ys, pooledH, gh, rows: true, _wide);
            _smallCols.Build(xs, pooledW, gw, rows: false, _wide);
            for (int ph = 0; ph < pooledH; ph++)
                for (int pw = 0; pw < pooledW; pw++)
                    binTaps[ph * pooledW + pw] = AddSmallGridBin(ph, pw, w, 1f / roi.Count);
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
    /// <see cref="AddBin"/> for grids of at most 2 × 2 points (torchvision's sampling ratio 2 and below), a bin in 16
    /// lanes: lane 4r + c is pixel (row line r, column line c) of the bin's ≤ 4 × 4, so live lanes ascend with the
    /// pixel index. Every line lists a weight for each point, 0 where the point does not touch it (or does not exist),
    /// so a pixel's ideal weight is the same four float32 terms t(iy, ix) = (w_y · w_x) · (1 / count), added in double
    /// in point order — zero terms add exactly 0 — for all lanes at once (count = grid_h · grid_w ∈ {1, 2, 4}: the
    /// product by 1 / count is the float32 quotient). The largest-remainder units likewise: floors of all lanes, and a
    /// pixel gains a unit iff its rank — remainders greater, then equal ones at lower pixels — is below the deficit,
    /// each rank mask compares and popcounts; the rare bins whose floors overshoot go to <see cref="Quantize"/>. Σ a_p
    /// stays a sequential sum over the pixels in ascending order, as the rule says. The 16 lanes are one 512-bit vector
    /// of floats (two of doubles) with AVX-512 and two (four) 256-bit ones with AVX2: the same operations lane by lane,
    /// so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AddSmallGridBin(int ph, int pw, int w, float inverse)
    {
        int rows = _smallRows.Count[ph], cols = _smallCols.Count[pw];
        if (rows == 0 || cols == 0) return 0;   // every point off the map: real 0, the zero point's share, no tap
        Reserve(SmallGridLines.Lines * SmallGridLines.Lines);
        uint live = ((1u << (SmallGridLines.Lines * rows)) - 1) & ((1u << cols) - 1) * 0x1111u;
        ref float yLanes = ref _smallRows.Lanes[2 * 16 * ph];
        ref float xLanes = ref _smallCols.Lanes[2 * 16 * pw];
        return _wide ? AddSmallGridBin512(ph, pw, w, inverse, live, ref yLanes, ref xLanes)
                     : AddSmallGridBin256(ph, pw, w, inverse, live, ref yLanes, ref xLanes);
    }

    /// <summary>
    /// <see cref="AddSmallGridBin"/>'s lanes as 512-bit vectors (AVX-512). Two shortcuts that give the same bits: when
    /// no term t is below 2^−29 (but 0), every term is a multiple of 2^−52 and every partial sum of the bin's terms is
    /// below 2, so all sums are exact in double and Σ a_p may be added in any order (one vector sum instead of the
    /// sequential one; tiny terms, a sampling point within 2^−29 of a pixel line, take the sequential sum); and the taps
    /// are written by two compress-stores of the live, non-zero lanes (ascending, as the scalar append).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AddSmallGridBin512(int ph, int pw, int w, float inverse, uint live, ref float yLanes, ref float xLanes)
    {
        Vector512<float> y0 = Vector512.LoadUnsafe(ref yLanes), y1 = Vector512.LoadUnsafe(ref yLanes, 16),
                         x0 = Vector512.LoadUnsafe(ref xLanes), x1 = Vector512.LoadUnsafe(ref xLanes, 16), inv = Vector512.Create(inverse);
        Vector512<float> t00 = y0 * x0 * inv, t01 = y0 * x1 * inv, t10 = y1 * x0 * inv, t11 = y1 * x1 * inv;
        Vector512<double> a0 = Wide(t00.GetLower()) + Wide(t01.GetLower()) + Wide(t10.GetLower()) + Wide(t11.GetLower()),
                          a1 = Wide(t00.GetUpper()) + Wide(t01.GetUpper()) + Wide(t10.GetUpper()) + Wide(t11.GetUpper());
        var shifts = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var bits = Vector512.Create((ulong)live);
        Vector512<double> live0 = Vector512.Equals(Avx512F.ShiftRightLogicalVariable(bits, shifts) & Vector512<ulong>.One, Vector512<ulong>.One).AsDouble(),
                          live1 = Vector512.Equals(Avx512F.ShiftRightLogicalVariable(bits, shifts + Vector512.Create(8UL)) & Vector512<ulong>.One, Vector512<ulong>.One).AsDouble();
        Span<double> ideal = stackalloc double[16];
        long target;
        var tiny = Vector512.Create(1f / (1 << 29));   // 2^−29
        if (Vector512.EqualsAll(Vector512.LessThan(t00, tiny) & Vector512.GreaterThan(t00, Vector512<float>.Zero)
                              | Vector512.LessThan(t01, tiny) & Vector512.GreaterThan(t01, Vector512<float>.Zero)
                              | Vector512.LessThan(t10, tiny) & Vector512.GreaterThan(t10, Vector512<float>.Zero)
                              | Vector512.LessThan(t11, tiny) & Vector512.GreaterThan(t11, Vector512<float>.Zero), Vector512<float>.Zero))
        {
            double total = Vector512.Sum((a0 & live0) + (a1 & live1));   // exact: any order
            target = Math.Min((long)One, (long)Math.Round(total * One, MidpointRounding.ToEven));
        }
        else
        {
            a0.CopyTo(ideal);
            a1.CopyTo(ideal[8..]);
            target = SmallGridTarget(ideal, live);
        }
        var one = Vector512.Create(One);
        Vector512<double> s0 = a0 * one, s1 = a1 * one, f0 = Vector512.Floor(s0), f1 = Vector512.Floor(s1);
        Vector512<long> u0 = Vector512.ConvertToInt64(f0), u1 = Vector512.ConvertToInt64(f1);   // 0 on dead lanes
        long deficit = target - Vector512.Sum(u0 + u1);
        if (deficit < 0 || deficit > BitOperations.PopCount(live))
        {
            a0.CopyTo(ideal);
            a1.CopyTo(ideal[8..]);
            return QuantizeSmallGrid(ph, pw, w, live, ideal);
        }
        var none = Vector512.Create(-1.0);   // below every remainder (all ≥ 0): dead lanes never rank above a pixel
        Vector512<double> r0 = Vector512.ConditionalSelect(live0, s0 - f0, none), r1 = Vector512.ConditionalSelect(live1, s1 - f1, none);
        Span<double> remainder = stackalloc double[16];
        r0.CopyTo(remainder);
        r1.CopyTo(remainder[8..]);
        uint gains = 0;   // the lanes whose rank is below the deficit
        if (deficit > 0)
            for (uint b = live; b != 0; b &= b - 1)
            {
                int lane = BitOperations.TrailingZeroCount(b);
                var r = Vector512.Create(remainder[lane]);
                uint greater = (uint)(Vector512.GreaterThan(r0, r).ExtractMostSignificantBits() | Vector512.GreaterThan(r1, r).ExtractMostSignificantBits() << 8);
                uint equal = (uint)(Vector512.Equals(r0, r).ExtractMostSignificantBits() | Vector512.Equals(r1, r).ExtractMostSignificantBits() << 8);
                gains |= Gains(greater, equal, lane, deficit);
            }
        // The taps: lane 4r + c is pixel (row line r, column line c), weight ⌊a_p·2^22⌋ + its gain; kept if live and non-zero.
        const int lines = SmallGridLines.Lines;
        var laneIndex = Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var weight = Vector512.Create(Avx512F.ConvertToVector256Int32(u0), Avx512F.ConvertToVector256Int32(u1))
                   + (Avx512F.ShiftRightLogicalVariable(Vector512.Create(gains), laneIndex) & Vector512<uint>.One).AsInt32();
        var rowLines = Vector128.Create(_smallRows.Line.AsSpan(lines * ph, lines));
        var colLines = Vector128.Create(_smallCols.Line.AsSpan(lines * pw, lines));
        var rowsTwice = Vector256.Create(rowLines, rowLines);
        var colsTwice = Vector256.Create(colLines, colLines);
        var rows = Avx512F.PermuteVar16x32(Vector512.Create(rowsTwice, rowsTwice), Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
        var index = Avx512F.MultiplyLow(rows, Vector512.Create(w)) + Vector512.Create(colsTwice, colsTwice);
        var keep = Vector512.Equals(Avx512F.ShiftRightLogicalVariable(Vector512.Create(live), laneIndex) & Vector512<uint>.One, Vector512<uint>.One).AsInt32()
                 & ~Vector512.Equals(weight, Vector512<int>.Zero);
        // Room for 16 was reserved: the compressed vectors are stored whole, the lanes past the kept ones are scratch.
        Avx512F.Compress(Vector512<int>.Zero, keep, index).StoreUnsafe(ref Index[Count]);
        Avx512F.Compress(Vector512<int>.Zero, keep, weight).StoreUnsafe(ref Weight[Count]);
        int added = BitOperations.PopCount((uint)keep.ExtractMostSignificantBits());
        Count += added;
        return added;
    }

    /// <summary>
    /// <see cref="AddSmallGridBin"/>'s lanes as 256-bit vectors (AVX2): the floats of lanes 0–7 and 8–15, the doubles
    /// of lanes 4q … 4q + 3 (quarter q), each through the stack.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AddSmallGridBin256(int ph, int pw, int w, float inverse, uint live, ref float yLanes, ref float xLanes)
    {
        Span<double> ideal = stackalloc double[16];
        ref double idealRef = ref MemoryMarshal.GetReference(ideal);
        var inv = Vector256.Create(inverse);
        for (int half = 0; half < 16; half += 8)
        {
            Vector256<float> y0 = Vector256.LoadUnsafe(ref yLanes, (nuint)half), y1 = Vector256.LoadUnsafe(ref yLanes, (nuint)(16 + half)),
                             x0 = Vector256.LoadUnsafe(ref xLanes, (nuint)half), x1 = Vector256.LoadUnsafe(ref xLanes, (nuint)(16 + half));
            Vector256<float> t00 = y0 * x0 * inv, t01 = y0 * x1 * inv, t10 = y1 * x0 * inv, t11 = y1 * x1 * inv;
            (Wide(t00.GetLower()) + Wide(t01.GetLower()) + Wide(t10.GetLower()) + Wide(t11.GetLower())).StoreUnsafe(ref idealRef, (nuint)half);
            (Wide(t00.GetUpper()) + Wide(t01.GetUpper()) + Wide(t10.GetUpper()) + Wide(t11.GetUpper())).StoreUnsafe(ref idealRef, (nuint)(half + 4));
        }
        long target = SmallGridTarget(ideal, live);
        Span<double> remainder = stackalloc double[16];
        Span<long> units = stackalloc long[16];
        ref double remainderRef = ref MemoryMarshal.GetReference(remainder);
        ref long unitsRef = ref MemoryMarshal.GetReference(units);
        var one = Vector256.Create(One);
        var none = Vector256.Create(-1.0);   // below every remainder (all ≥ 0): dead lanes never rank above a pixel
        var shifts = Vector256.Create(0UL, 1, 2, 3);
        var bits = Vector256.Create((ulong)live);
        Vector256<long> sum = Vector256<long>.Zero;
        for (int q = 0; q < 16; q += 4)
        {
            Vector256<double> s = Vector256.LoadUnsafe(ref idealRef, (nuint)q) * one, f = Vector256.Floor(s);
            // ⌊s⌋ ∈ [0, 2^22] is exact in 32 bits: truncation to int32, then sign-extension (AVX2 has no double → int64).
            Vector256<long> u = Avx2.ConvertToVector256Int64(Avx.ConvertToVector128Int32WithTruncation(f));   // 0 on dead lanes
            u.StoreUnsafe(ref unitsRef, (nuint)q);
            sum += u;
            Vector256<double> isLive = Vector256.Equals(Avx2.ShiftRightLogicalVariable(bits, shifts + Vector256.Create((ulong)q)) & Vector256<ulong>.One, Vector256<ulong>.One).AsDouble();
            Vector256.ConditionalSelect(isLive, s - f, none).StoreUnsafe(ref remainderRef, (nuint)q);
        }
        long deficit = target - Vector256.Sum(sum);
        if (deficit < 0 || deficit > BitOperations.PopCount(live)) return QuantizeSmallGrid(ph, pw, w, live, ideal);
        uint gains = 0;   // the lanes whose rank is below the deficit
        if (deficit > 0)
        {
            Vector256<double> r0 = Vector256.LoadUnsafe(ref remainderRef), r1 = Vector256.LoadUnsafe(ref remainderRef, 4),
                              r2 = Vector256.LoadUnsafe(ref remainderRef, 8), r3 = Vector256.LoadUnsafe(ref remainderRef, 12);
            for (uint b = live; b != 0; b &= b - 1)
            {
                int lane = BitOperations.TrailingZeroCount(b);
                var r = Vector256.Create(remainder[lane]);
                uint greater = Vector256.GreaterThan(r0, r).ExtractMostSignificantBits() | Vector256.GreaterThan(r1, r).ExtractMostSignificantBits() << 4
                             | Vector256.GreaterThan(r2, r).ExtractMostSignificantBits() << 8 | Vector256.GreaterThan(r3, r).ExtractMostSignificantBits() << 12;
                uint equal = Vector256.Equals(r0, r).ExtractMostSignificantBits() | Vector256.Equals(r1, r).ExtractMostSignificantBits() << 4
                           | Vector256.Equals(r2, r).ExtractMostSignificantBits() << 8 | Vector256.Equals(r3, r).ExtractMostSignificantBits() << 12;
                gains |= Gains(greater, equal, lane, deficit);
            }
        }
        return AppendSmallGrid(ph, pw, w, live, gains, units);
    }

    /// <summary>8 float32 lanes widened to double (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Wide(Vector256<float> x) => Avx512F.ConvertToVector512Double(x);

    /// <summary>4 float32 lanes widened to double (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Wide(Vector128<float> x) => Avx.ConvertToVector256Double(x);

    /// <summary>A small-grid bin's target: min(2^22, round(Σ a_p · 2^22)), Σ over its live lanes (pixels) in ascending order.</summary>
    private static long SmallGridTarget(ReadOnlySpan<double> ideal, uint live)
    {
        double total = 0;
        for (uint b = live; b != 0; b &= b - 1) total += ideal[BitOperations.TrailingZeroCount(b)];
        return Math.Min((long)One, (long)Math.Round(total * One, MidpointRounding.ToEven));
    }

    /// <summary>
    /// Lane <paramref name="lane"/>'s bit if it gains a unit: its rank (lanes of greater remainders, then equal ones at
    /// lower lanes) below <paramref name="deficit"/>. Without a branch (the sign of rank − deficit): which lanes gain
    /// is data, a branch on it mispredicts about every other lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Gains(uint greater, uint equal, int lane, long deficit) =>
        (uint)((ulong)(BitOperations.PopCount(greater) + BitOperations.PopCount(equal & ((1u << lane) - 1)) - deficit) >> 63) << lane;

    /// <summary>A small-grid bin whose floors overshoot (or fall short by more than a unit a pixel): its live lanes through <see cref="Quantize"/>.</summary>
    private int QuantizeSmallGrid(int ph, int pw, int w, uint live, ReadOnlySpan<double> ideal)
    {
        const int lines = SmallGridLines.Lines;
        int[] rowLine = _smallRows.Line, colLine = _smallCols.Line;
        int k = 0;
        for (uint b = live; b != 0; b &= b - 1)
        {
            int lane = BitOperations.TrailingZeroCount(b);
            _pixel[k] = rowLine[lines * ph + (lane >> 2)] * w + colLine[lines * pw + (lane & 3)];
            _ideal[k++] = ideal[lane];
        }
        return Quantize(k);
    }

    /// <summary>Appends a small-grid bin's non-zero taps: each live lane's floor plus its bit of <paramref name="gains"/>; returns how many.</summary>
    private int AppendSmallGrid(int ph, int pw, int w, uint live, uint gains, ReadOnlySpan<long> units)
    {
        const int lines = SmallGridLines.Lines;
        int[] rowLine = _smallRows.Line, colLine = _smallCols.Line;
        int count = Count;
        for (uint b = live; b != 0; b &= b - 1)
        {
            int lane = BitOperations.TrailingZeroCount(b);
            long u = units[lane] + ((gains >> lane) & 1);
            Index[count] = rowLine[lines * ph + (lane >> 2)] * w + colLine[lines * pw + (lane & 3)];
            Weight[count] = (int)u;
            count += u != 0 ? 1 : 0;   // written always, kept if non-zero (room reserved): no branch on the data
        }
        int added = count - Count;
        Count = count;
        return added;
    }

    /// <summary>The bin's m ideal weights (pixels ascending) to Q22 by the largest-remainder rule; appends the non-zero taps.</summary>
    private int Quantize(int m)
    {
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
        }
        long deficit = target - sum;
        if (deficit > 0 && deficit <= m && m <= 32)
        {
            // The usual case: the `deficit` largest remainders gain a unit — i.e. each pixel whose rank (larger
            // remainders, then equal ones at lower pixels) is below it; counted without branches (bins of up to 32 pixels; larger ones sort).
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
    /// ascending (up to <see cref="Lines"/>: two points, a low and a high line each), Line[Lines·p + j], and
    /// Lanes[32·p + 16·i + lane]: point i's (i ∈ {0, 1}) weights spread over the 16 lanes of a bin — lane 4r + c takes
    /// its weight on line r on the rows axis, on line c on the columns axis; 0 where the point is off the map or does not
    /// touch the line (or the line does not exist).
    /// </summary>
    private sealed class SmallGridLines
    {
        public const int Lines = 4;
        public int[] Count = new int[16];
        public int[] Line = new int[Lines * 16];
        public float[] Lanes = new float[2 * 16 * 16];

        // The index into a pooled index's weights w[2j + i] (line j, point i) for lane 4r + c: j = r on the rows axis, j = c on the columns axis; i = the point.
        private static readonly Vector512<int> RowLanes0 = Vector512.Create(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6),
                                               RowLanes1 = RowLanes0 + Vector512<int>.One,
                                               ColumnLanes0 = Vector512.Create(0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6),
                                               ColumnLanes1 = ColumnLanes0 + Vector512<int>.One;

        public void Build(ReadOnlySpan<RoiAlignSampling.Axis> points, int pooled, int grid, bool rows, bool wide)
        {
            if (Count.Length < pooled)
            {
                Count = new int[pooled];
                Line = new int[Lines * pooled];
                Lanes = new float[2 * 16 * pooled];
            }
            Span<float> weights = stackalloc float[2 * Lines];
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
                weights.Clear();
                for (int i = 0; i < grid; i++)
                {
                    ref readonly var a = ref points[p * grid + i];
                    if (a.Off) continue;
                    weights[2 * lines[..n].IndexOf(a.Low) + i] = a.H;
                    if (a.High != a.Low) weights[2 * lines[..n].IndexOf(a.High) + i] = a.L;
                }
                // Lane 4r + c takes line r's (rows) or line c's (columns) weight of point i: a permutation of the 8.
                // Every index is below 8, so with AVX2 each 8-lane half of the 16 is the same permutation of one vector.
                Vector512<int> lanes0 = rows ? RowLanes0 : ColumnLanes0, lanes1 = rows ? RowLanes1 : ColumnLanes1;
                if (wide)
                {
                    var all = Vector512.Create(Vector256.Create<float>(weights), Vector256<float>.Zero);
                    Avx512F.PermuteVar16x32(all, lanes0).StoreUnsafe(ref Lanes[32 * p]);
                    Avx512F.PermuteVar16x32(all, lanes1).StoreUnsafe(ref Lanes[32 * p + 16]);
                }
                else
                {
                    var all = Vector256.Create<float>(weights);
                    Avx2.PermuteVar8x32(all, lanes0.GetLower()).StoreUnsafe(ref Lanes[32 * p]);
                    Avx2.PermuteVar8x32(all, lanes0.GetUpper()).StoreUnsafe(ref Lanes[32 * p + 8]);
                    Avx2.PermuteVar8x32(all, lanes1.GetLower()).StoreUnsafe(ref Lanes[32 * p + 16]);
                    Avx2.PermuteVar8x32(all, lanes1.GetUpper()).StoreUnsafe(ref Lanes[32 * p + 24]);
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
