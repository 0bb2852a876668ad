using Nanoq.Kernels;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Quant.Kernels;

/// <summary>
/// Affine fake quantization and its straight-through backward on spans (DESIGN.md §5.3–4):
/// <code>
///     t  = round(x · (1/Δ)) + z          1/Δ in float32, round half to even, all float32
///     q  = clamp(t, 0, 2^k − 1)
///     x̂  = (q − z) · Δ
///     ∂L/∂x = ∂L/∂x̂ · [0 ≤ t ≤ 2^k − 1]   (eq. 8, with t unclamped)
/// </code>
/// This is PyTorch 1.13's CPU kernel operation for operation (<c>_fake_quantize_tensor_helper</c> and
/// <c>fake_quant_per_channel_cachemask_cpu</c> in QuantizedOpKernels.cpp): <c>inv_scale = 1.0f / scale</c>;
/// <c>z_point + std::nearbyint(x * inv_scale)</c> is a float32 product, rounded in float32 (the current rounding
/// mode, to nearest even) and a float32 sum (an int64 plus a float is a float in C++); the clamp happens before the
/// cast to an integer code; and <c>(q − z) * scale</c> is the product of a small integer and a float — exact in
/// double, so rounding it once to float32 equals our float32 product. The backward is <c>dY * mask</c> in PyTorch,
/// a multiplication, so a masked-out negative gradient gives −0 there and here: results agree bit for bit, signed
/// zeros included (tests/Nanoq.Quant.Tests/data/torch).
///
/// The mask. PyTorch's (and ours) keeps the gradient where the rounded, unclamped code lies on the grid. That
/// differs from the textbook "lb' ≤ x ≤ ub'" only within half a step of each bound: x in [lb' − Δ/2, lb') rounds to
/// code 0 and passes the gradient, and at exactly lb' − Δ/2 (or ub' + Δ/2) the tie rule decides.
///
/// Deliberate differences: NaN propagates to x̂ (PyTorch's <c>fmax</c> turns it into lb', hiding a diverged run)
/// and gets a zero mask; x·(1/Δ) beyond ±2^63 saturates correctly here, where PyTorch's 1.13 versions before the
/// clamp-first helper cast it to int64 (undefined behaviour).
///
/// The loops are Vector512 over the bulk, one Vector256 step, then a scalar tail that performs the same float32
/// operations (MathF.Round is half-to-even like Vector512.Round; MathF.Min/Max propagate NaN like
/// Vector512.Min/Max), so a value's result does not depend on its position.
/// </summary>
public static class FakeQuantKernels
{
    // ---- per tensor ---------------------------------------------------------------------------------------------

    /// <summary>y = fake_quant(x; Δ, z, 2^k − 1). y may alias x exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, float scale, int zeroPoint, int qmax, Span<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException($"FakeQuant forward: lengths {x.Length} and {y.Length} differ.");
        float inv = 1f / scale, zf = zeroPoint, qm = qmax;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var vInv = Vector512.Create(inv); var vZ = Vector512.Create(zf); var vQm = Vector512.Create(qm); var vS = Vector512.Create(scale);
            for (; i <= n - 16; i += 16)
            {
                var t = Vector512.Round(Vector512.LoadUnsafe(ref px, (nuint)i) * vInv) + vZ;
                t = Vector512.Min(Vector512.Max(t, Vector512<float>.Zero), vQm);
                ((t - vZ) * vS).StoreUnsafe(ref py, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vInv = Vector256.Create(inv); var vZ = Vector256.Create(zf); var vQm = Vector256.Create(qm); var vS = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
            {
                var t = Vector256.Round(Vector256.LoadUnsafe(ref px, (nuint)i) * vInv) + vZ;
                t = Vector256.Min(Vector256.Max(t, Vector256<float>.Zero), vQm);
                ((t - vZ) * vS).StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float t = MathF.Round(Unsafe.Add(ref px, i) * inv) + zf;
            t = MathF.Min(MathF.Max(t, 0f), qm);
            Unsafe.Add(ref py, i) = (t - zf) * scale;
        }
    }

    /// <summary>dx = dy · [0 ≤ round(x/Δ) + z ≤ 2^k − 1] (the STE of eq. 8). dx may alias dy exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, float scale, int zeroPoint, int qmax, Span<float> dx)
    {
        if (dy.Length != x.Length || dx.Length != x.Length)
            throw new ArgumentException($"FakeQuant backward: lengths {x.Length}, {dy.Length} and {dx.Length} differ.");
        float inv = 1f / scale, zf = zeroPoint, qm = qmax;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pg = ref MemoryMarshal.GetReference(dy);
        ref float pd = ref MemoryMarshal.GetReference(dx);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var vInv = Vector512.Create(inv); var vZ = Vector512.Create(zf); var vQm = Vector512.Create(qm); var one = Vector512.Create(1f);
            for (; i <= n - 16; i += 16)
            {
                var t = Vector512.Round(Vector512.LoadUnsafe(ref px, (nuint)i) * vInv) + vZ;
                var m = Vector512.GreaterThanOrEqual(t, Vector512<float>.Zero) & Vector512.LessThanOrEqual(t, vQm);
                (Vector512.LoadUnsafe(ref pg, (nuint)i) * (m & one)).StoreUnsafe(ref pd, (nuint)i); // g · 1.0 or g · 0.0
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vInv = Vector256.Create(inv); var vZ = Vector256.Create(zf); var vQm = Vector256.Create(qm); var one = Vector256.Create(1f);
            for (; i <= n - 8; i += 8)
            {
                var t = Vector256.Round(Vector256.LoadUnsafe(ref px, (nuint)i) * vInv) + vZ;
                var m = Vector256.GreaterThanOrEqual(t, Vector256<float>.Zero) & Vector256.LessThanOrEqual(t, vQm);
                (Vector256.LoadUnsafe(ref pg, (nuint)i) * (m & one)).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float t = MathF.Round(Unsafe.Add(ref px, i) * inv) + zf;
            Unsafe.Add(ref pd, i) = Unsafe.Add(ref pg, i) * (t >= 0f && t <= qm ? 1f : 0f);
        }
    }

    /// <summary>
    /// The integer codes q = clamp(round(x · (1/Δ)) + z, 0, 2^k − 1) of the forward above, one per byte (for conversion
    /// to the integer runtime). NaN, which has no code, throws.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> x, float scale, int zeroPoint, int qmax, Span<byte> codes)
    {
        if (codes.Length != x.Length) throw new ArgumentException($"Quantize: lengths {x.Length} and {codes.Length} differ.");
        if (qmax > byte.MaxValue) throw new ArgumentOutOfRangeException(nameof(qmax), $"Quantize: codes up to {qmax} do not fit a byte.");
        float inv = 1f / scale, zf = zeroPoint, qm = qmax;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref byte pq = ref MemoryMarshal.GetReference(codes);
        int n = x.Length, i = 0;
        if (Simd.Level == SimdLevel.Avx512)
        {
            // The scalar loop's float32 steps, then t (an integer in [0, qmax]) truncated to int32 and to a byte
            // (vpmovdb); a NaN anywhere in a block leaves the vector loop so that the scalar one names it.
            var vInv = Vector512.Create(inv); var vZ = Vector512.Create(zf); var vQm = Vector512.Create(qm);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref px, (nuint)i);
                if (!Vector512.EqualsAll(v, v)) break;
                var t = Vector512.Min(Vector512.Max(Vector512.Round(v * vInv) + vZ, Vector512<float>.Zero), vQm);
                Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32(t)).StoreUnsafe(ref pq, (nuint)i);
            }
        }
        else if (Simd.Level >= SimdLevel.Avx2)
        {
            // The same steps 8 lanes at a time; 32 codes narrowed int32 → uint16 → byte (exact: every t ≤ 255).
            var vInv = Vector256.Create(inv); var vZ = Vector256.Create(zf); var vQm = Vector256.Create(qm);
            for (; i <= n - 32; i += 32)
            {
                var v0 = Vector256.LoadUnsafe(ref px, (nuint)i); var v1 = Vector256.LoadUnsafe(ref px, (nuint)i + 8);
                var v2 = Vector256.LoadUnsafe(ref px, (nuint)i + 16); var v3 = Vector256.LoadUnsafe(ref px, (nuint)i + 24);
                if (!(Vector256.EqualsAll(v0, v0) && Vector256.EqualsAll(v1, v1) && Vector256.EqualsAll(v2, v2) && Vector256.EqualsAll(v3, v3))) break;
                var t0 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(v0 * vInv) + vZ, Vector256<float>.Zero), vQm)).AsUInt32();
                var t1 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(v1 * vInv) + vZ, Vector256<float>.Zero), vQm)).AsUInt32();
                var t2 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(v2 * vInv) + vZ, Vector256<float>.Zero), vQm)).AsUInt32();
                var t3 = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(v3 * vInv) + vZ, Vector256<float>.Zero), vQm)).AsUInt32();
                Vector256.Narrow(Vector256.Narrow(t0, t1), Vector256.Narrow(t2, t3)).StoreUnsafe(ref pq, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float t = MathF.Min(MathF.Max(MathF.Round(Unsafe.Add(ref px, i) * inv) + zf, 0f), qm);
            if (float.IsNaN(t)) throw new ArgumentException($"Quantize: element {i} is NaN.");
            Unsafe.Add(ref pq, i) = (byte)t;
        }
    }

    /// <summary>
    /// x̂ = (q − z) · Δ for codes q (the integer runtime's float edge out): the small integer q − z converted exactly to
    /// float32, one float32 product — the forward's last step, so x̂ equals the fake-quant value bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(ReadOnlySpan<byte> codes, float scale, int zeroPoint, Span<float> x)
    {
        if (codes.Length != x.Length) throw new ArgumentException($"Dequantize: lengths {codes.Length} and {x.Length} differ.");
        ref byte pq = ref MemoryMarshal.GetReference(codes);
        ref float px = ref MemoryMarshal.GetReference(x);
        int n = codes.Length, i = 0;
        if (Simd.Level == SimdLevel.Avx512)
        {
            var vZ = Vector512.Create(zeroPoint); var vS = Vector512.Create(scale);
            for (; i <= n - 16; i += 16)
                (Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref pq, (nuint)i)) - vZ) * vS).StoreUnsafe(ref px, (nuint)i);
        }
        else if (Simd.Level >= SimdLevel.Avx2)
        {
            var vZ = Vector256.Create(zeroPoint); var vS = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
                (Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref pq, i))).AsByte()) - vZ) * vS)
                    .StoreUnsafe(ref px, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref px, i) = (float)(Unsafe.Add(ref pq, i) - zeroPoint) * scale;
    }

    // ---- per channel --------------------------------------------------------------------------------------------
    // x is viewed as [outer, channels, inner] with the channel axis in the middle; each run of `inner` elements
    // shares one (Δ_c, z_c) and goes through the per-tensor loop, so per channel = per tensor slice by slice, bit
    // for bit. (Weights: axis 0, outer = 1, inner = in·kh·kw.)

    /// <summary>Per-channel <see cref="Forward"/>: channel c of x [outer, channels, inner] uses scales[c], zeroPoints[c].</summary>
    public static void ForwardPerChannel(ReadOnlySpan<float> x, int outer, int channels, int inner,
        ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints, int qmax, Span<float> y)
    {
        CheckChannels(x.Length, y.Length, outer, channels, inner, scales.Length, zeroPoints.Length);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                int at = (o * channels + c) * inner;
                Forward(x.Slice(at, inner), scales[c], zeroPoints[c], qmax, y.Slice(at, inner));
            }
    }

    /// <summary>Per-channel <see cref="Backward"/>.</summary>
    public static void BackwardPerChannel(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int outer, int channels, int inner,
        ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints, int qmax, Span<float> dx)
    {
        CheckChannels(x.Length, dx.Length, outer, channels, inner, scales.Length, zeroPoints.Length);
        if (dy.Length != x.Length) throw new ArgumentException($"FakeQuant backward: lengths {x.Length} and {dy.Length} differ.");
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                int at = (o * channels + c) * inner;
                Backward(x.Slice(at, inner), dy.Slice(at, inner), scales[c], zeroPoints[c], qmax, dx.Slice(at, inner));
            }
    }

    private static void CheckChannels(int nx, int ny, int outer, int channels, int inner, int ns, int nz)
    {
        if ((long)outer * channels * inner != nx || ny != nx)
            throw new ArgumentException($"FakeQuant per channel: view [{outer}, {channels}, {inner}] does not match lengths {nx} and {ny}.");
        if (ns != channels || nz != channels)
            throw new ArgumentException($"FakeQuant per channel: {ns} scales and {nz} zero points for {channels} channels.");
    }
}
