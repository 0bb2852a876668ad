using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One RoI of <see cref="IntRoiAlign"/>: all bins and channels of RoI <c>task</c>, written to its own output row, so
/// tasks never share an output and the result does not depend on the split. The codes are read channels-last
/// ([n, H·W, c], transposed once per call by <see cref="IntRoiAlign"/>), so a tap is one contiguous run of c codes
/// and the bin's c accumulators are summed 16 lanes at a time:
/// <code>
///   acc[ch] = Σ_taps W · q[p, ch]  −  z · Σ_taps W       both terms exact in int32: q ≤ 255, Σ W ≤ 2^22
/// </code>
/// which is Σ W · (q − z) exactly. The epilogue writes one of: codes rounded half to even onto the input's grid
/// (<see cref="Output"/>), the accumulators themselves (<see cref="Accumulators"/>), or codes requantized onto another
/// grid (<see cref="Requantized"/> with <see cref="Requant"/>). Pointers are pinned by the caller.
/// </summary>
internal unsafe struct IntRoiAlignTask : IParallelBody
{
    public byte* Codes, Output, Requantized;
    public int* Accumulators;
    public Requantization? Requant;
    public int* Batch, TapStart, TapIndex, TapWeight, OutputRows;
    public int Channels, Plane, Bins, ZeroPoint;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        const int f = IntRoiAlignPlan.FractionBits, half = 1 << (f - 1), mask = (1 << f) - 1;
        int k = task, z = ZeroPoint, bins = Bins, c = Channels;
        int row = OutputRows == null ? k : OutputRows[k];
        int* start = TapStart + (long)k * bins;
        byte* image = Codes + (long)Batch[k] * Plane * c;
        int* acc = stackalloc int[c + 16];
        byte* lanes = stackalloc byte[16];
        bool simd = Simd.Is512, simd256 = Simd.IsVector && !simd;
        if (Simd.IsVector && Requantized != null && c % 16 == 0)
        {
            RequantizeBins(k, row, image);
            return;
        }
        for (int bin = 0; bin < bins; bin++)
        {
            new Span<int>(acc, c).Clear();
            int weights = 0;
            for (int t = start[bin], e = start[bin + 1]; t < e; t++)
            {
                int w = TapWeight[t];
                weights += w;
                byte* x = image + (long)TapIndex[t] * c;
                int ch = 0;
                if (simd)
                {
                    var wv = Vector512.Create(w);
                    for (; ch + 16 <= c; ch += 16)
                        Vector512.Store(Vector512.Load(acc + ch) + Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Vector128.Load(x + ch)), wv), acc + ch);
                }
                else if (simd256)
                {
                    var wv = Vector256.Create(w);
                    for (; ch + 8 <= c; ch += 8)
                        Vector256.Store(Vector256.Load(acc + ch) + Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(x + ch), wv), acc + ch);
                }
                for (; ch < c; ch++) acc[ch] += w * x[ch];
            }
            int zw = z * weights;
            long at = (long)row * c * bins + bin;     // channel ch of this bin: at + ch·bins
            if (Accumulators != null)
            {
                for (int ch = 0; ch < c; ch++) Accumulators[at + (long)ch * bins] = acc[ch] - zw;
            }
            else if (Output != null)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    int a = acc[ch] - zw;
                    int q = a >> f;                // floor, also for negative a
                    int rem = a & mask;            // a − q·2^f, in [0, 2^f)
                    if (rem > half || (rem == half && (q & 1) != 0)) q++;
                    Output[at + (long)ch * bins] = (byte)(z + q);
                }
            }
            else
            {
                var rq = Requant!;
                int ch = 0;
                if (Simd.IsVector)
                    for (; ch + 16 <= c; ch += 16)
                    {
                        rq.ApplyToBytes(acc + ch, 1, -zw, 0, lanes);
                        for (int i = 0; i < 16; i++) Requantized[at + (long)(ch + i) * bins] = lanes[i];
                    }
                for (; ch < c; ch++) Requantized[at + (long)ch * bins] = (byte)rq.Apply(acc[ch] - zw, 0);
            }
        }
    }

    /// <summary>
    /// The requantizing epilogue's common case (channels a multiple of 16): each 16-channel slice of a bin summed over its
    /// taps in one register, then requantized — the same int32 sums as the general loop, without the accumulators' round
    /// trips through memory. With AVX-512, 64 channels (four slices) go through a bin's taps together, so each tap's
    /// index and weight are read once for the four. A slice's bins go 16 at a time through a 16 × 16 block transposed
    /// onto the 16 channel planes (<see cref="ByteTranspose"/>), the last few bins byte by byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RequantizeBins(int k, int row, byte* image)
    {
        int bins = Bins, c = Channels;
        byte* block = stackalloc byte[16 * 64];   // [bin][channel] of 16 bins, 64 channels a row
        byte* output = Requantized + (long)row * c * bins;
        int ch = 0;
        if (Simd.Is512)
            for (; ch + 64 <= c; ch += 64)
            {
                byte* planes = output + (long)ch * bins;
                int bin = 0;
                for (; bin + 16 <= bins; bin += 16)
                {
                    for (int b = 0; b < 16; b++) RequantizeQuad(k, bin + b, image + ch, block + 64 * b);
                    for (int q = 0; q < 4; q++) ByteTranspose.Transpose16x16(block + 16 * q, 64, planes + (long)16 * q * bins + bin, bins);
                }
                for (; bin < bins; bin++)
                {
                    RequantizeQuad(k, bin, image + ch, block);
                    for (int i = 0; i < 64; i++) planes[(long)i * bins + bin] = block[i];
                }
            }
        for (; ch < c; ch += 16)
        {
            byte* planes = output + (long)ch * bins;   // channel ch + i's bins at planes + i · bins
            int bin = 0;
            for (; bin + 16 <= bins; bin += 16)
            {
                for (int b = 0; b < 16; b++) RequantizeSlice(k, bin + b, image + ch).Store(block + 16 * b);
                ByteTranspose.Transpose16x16(block, 16, planes + bin, bins);
            }
            for (; bin < bins; bin++)
            {
                RequantizeSlice(k, bin, image + ch).Store(block);
                for (int i = 0; i < 16; i++) planes[(long)i * bins + bin] = block[i];
            }
        }
    }

    /// <summary>
    /// <see cref="RequantizeSlice"/> for four slices at once (AVX-512): the 64 output codes of RoI k's bin for the 64
    /// channels from <paramref name="slice"/>, to <paramref name="codes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RequantizeQuad(int k, int bin, byte* slice, byte* codes)
    {
        int* start = TapStart + (long)k * Bins;
        int t0 = start[bin], t1 = start[bin + 1], weights = 0, c = Channels;
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int t = t0; t < t1; t++)
        {
            int w = TapWeight[t];
            weights += w;
            byte* x = slice + (long)TapIndex[t] * c;
            var wv = Vector512.Create(w);
            a0 += Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Vector128.Load(x)), wv);
            a1 += Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Vector128.Load(x + 16)), wv);
            a2 += Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Vector128.Load(x + 32)), wv);
            a3 += Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Vector128.Load(x + 48)), wv);
        }
        // The per-tensor constants built once for the 64 channels (Requantization.ApplyToVector).
        Requant!.ApplyToVector(a0, a1, a2, a3, 4, -ZeroPoint * weights, 0).Store(codes);
    }

    /// <summary>The 16 output codes of RoI k's bin for the 16 channels from <paramref name="slice"/> (the image's channels-last codes, from the slice's first channel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> RequantizeSlice(int k, int bin, byte* slice)
    {
        int* start = TapStart + (long)k * Bins;
        int t0 = start[bin], t1 = start[bin + 1], weights = 0, c = Channels;
        if (!Simd.Is512)
        {
            // AVX2: the 16 channels as two halves of 8, the same sums.
            Vector256<int> lo = default, hi = default;
            for (int t = t0; t < t1; t++)
            {
                int w = TapWeight[t];
                weights += w;
                byte* x = slice + (long)TapIndex[t] * c;
                var wv = Vector256.Create(w);
                lo += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(x), wv);
                hi += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(x + 8), wv);
            }
            int offset = -ZeroPoint * weights;
            return Narrow.ToBytes(Requant!.Apply(lo, offset, 0), Requant!.Apply(hi, offset, 0));
        }
        var acc = Vector512<int>.Zero;
        for (int t = t0; t < t1; t++)
        {
            int w = TapWeight[t];
            weights += w;
            acc += Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Vector128.Load(slice + (long)TapIndex[t] * c)), Vector512.Create(w));
        }
        return Avx512F.ConvertToVector128Byte(Requant!.Apply(acc, -ZeroPoint * weights, 0));
    }
}
