using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// Fully connected, quantized add, requantize, max pooling and nearest upsampling on codes: SIMD against the scalar
/// form over lengths 0..256 (all tails), against independent loops, and hand cases — the vector kernels at each vector
/// level the CPU has (<see cref="SimdLevels"/>).
/// </summary>
[Collection(SimdCollection.Name)]
public class IntElementwiseTests
{
    private static byte[] Codes(Rng rng, int n, int max = 255)
    {
        var a = new byte[n];
        for (int i = 0; i < n; i++) a[i] = (byte)rng.NextInt(max + 1);
        return a;
    }

    [Theory]
    [InlineData(1, 1, 1, 8, 8)]
    [InlineData(3, 37, 5, 8, 8)]
    [InlineData(2, 100, 67, 4, 4)]
    [InlineData(5, 1000, 33, 8, 4)]
    [InlineData(9, 130, 131, 4, 8)]  // int8 panels: 3 blocks of 4 rows (the last one row), rows of 130 copied padded, panels 64 + 64 + 3
    [InlineData(4, 64, 4, 4, 4)]
    [InlineData(3, 5000, 9, 4, 4)]   // 1,250 units a row: widened after 72 steps and at the end
    [InlineData(6, 600, 6, 4, 8)]    // 8-bit inputs: S = ⌊32767 / (2·255·15)⌋ = 4, widened every 4 steps
    [InlineData(33, 37, 5, 4, 4)]    // a last unit of one feature, a last block of one row
    [InlineData(150, 3136, 9, 4, 4)] // a box head's fc6 width at batch 1: 38 blocks, the last of two rows
    [InlineData(150, 3136, 40, 4, 4)]
    [InlineData(70, 64, 300, 4, 4)]  // five panels (the last 44 outputs: three live vectors), each panel's blocks in runs
    [InlineData(1, 200, 70, 4, 4)]   // one row: the block repeats it
    [InlineData(2, 8, 16, 4, 4)]
    [InlineData(64, 600, 6, 4, 8)]
    [InlineData(100, 130, 131, 4, 4)]
    [InlineData(40, 70, 3, 8, 8)]    // 8-bit weights: the int16 rows, whatever the batch
    public void FullyConnected_EqualsReference(int batch, int inF, int outF, int wbits, int xbits)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => FullyConnected(batch, inF, outF, wbits, xbits));
    }

    private static void FullyConnected(int batch, int inF, int outF, int wbits, int xbits)
    {
        var rng = new Rng((ulong)(inF * 7 + outF));
        var x = Codes(rng, batch * inF, (1 << xbits) - 1);
        var w = Codes(rng, outF * inF, (1 << wbits) - 1);
        var zw = Enumerable.Range(0, outF).Select(_ => rng.NextInt(1 << wbits)).ToArray();
        var bias = Enumerable.Range(0, outF).Select(_ => rng.NextInt(-5000, 5000)).ToArray();
        int zx = rng.NextInt(1 << xbits);
        var weights = IntFullyConnectedWeights.Pack(outF, inF, w, zw, wbits, xbits);
        var expected = new int[batch * outF];
        IntFullyConnected.ReferenceAccumulators(batch, x, zx, w, zw, outF, bias, expected);
        var acc = new int[batch * outF];
        IntFullyConnected.ForwardAccumulators(batch, x, zx, weights, bias, acc);
        Assert.Equal(expected, acc);
        var m0 = Enumerable.Range(0, outF).Select(_ => (1 << 30) + rng.NextInt(1 << 30)).ToArray();
        var sh = Enumerable.Range(0, outF).Select(_ => -rng.NextInt(3, 12)).ToArray();
        // Both roundings; per output channel (the epilogue's lane-wise multipliers) and per tensor.
        foreach (var rq in new[]
                 {
                     new Requantization(m0, sh, 7, 7, 255), new Requantization(m0, sh, 7, 7, 255, RequantRounding.Single),
                     Requantization.PerTensor(m0[0], sh[0], 3, 0, 200, RequantRounding.Single),
                 })
        {
            var y = new byte[batch * outF];
            IntFullyConnected.Forward(batch, x, zx, weights, bias, rq, y);
            for (int i = 0; i < y.Length; i++) Assert.Equal(rq.Apply(expected[i], i % outF), y[i]);
        }
    }

    /// <summary>
    /// The int8 panel path at its bound: every product at its extreme (x = 2^k_x − 1, w − z_w = −w_max) for exactly S steps
    /// before a widening, both ways of the sign, against the reference; and which layers get int8 rows.
    /// </summary>
    [Theory]
    [InlineData(4, 4)]
    [InlineData(4, 8)]
    [InlineData(5, 6)]
    [InlineData(4, 4, 40)]
    [InlineData(4, 8, 70)]
    public void FullyConnected_Int8Rows_AtTheSaturationBound(int wbits, int xbits, int batch = 5)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => FullyConnectedAtBound(wbits, xbits, batch));
    }

    private static void FullyConnectedAtBound(int wbits, int xbits, int batch)
    {
        int wmax = (1 << wbits) - 1, xmax = (1 << xbits) - 1, steps = 32767 / (2 * xmax * wmax), inF = 64 * steps * 2 + 64 + 5, outF = 6;
        var x = Enumerable.Repeat((byte)xmax, batch * inF).ToArray();
        var w = new byte[outF * inF];
        for (int o = 0; o < outF; o++) for (int i = 0; i < inF; i++) w[o * inF + i] = (byte)(o % 2 == 0 ? 0 : wmax);
        var zw = Enumerable.Range(0, outF).Select(o => o % 2 == 0 ? wmax : 0).ToArray();   // w − z_w = ∓w_max
        var weights = IntFullyConnectedWeights.Pack(outF, inF, w, zw, wbits, xbits);
        Assert.Equal(steps, weights.Madd16Steps);
        var expected = new int[batch * outF];
        IntFullyConnected.ReferenceAccumulators(batch, x, 0, w, zw, outF, [], expected);
        var acc = new int[batch * outF];
        IntFullyConnected.ForwardAccumulators(batch, x, 0, weights, [], acc);
        Assert.Equal(expected, acc);
        Assert.Equal(-(long)inF * wmax * xmax, expected[0]);
        // 8-bit weights spread over more than int8: the int16 rows only.
        Assert.Equal(0, IntFullyConnectedWeights.Pack(1, 2, [0, 255], [0], 8, 8).Madd16Steps);
    }

    /// <summary>An add long enough to run in parallel runs (equal parts, none a multiple of 16) equals the scalar form.</summary>
    [Fact]
    public void Add_LongInputsSplitOverCoresEqualScalar()
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => Add_LongInputsSplitOverCoresEqualScalarAt());
    }

    private static void Add_LongInputsSplitOverCoresEqualScalarAt()
    {
        var rng = new Rng(22);
        int n = (1 << 17) + 13;
        var p = new QuantizedAddParams(rng.NextInt(16), (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(1, 4),
            rng.NextInt(16), (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(1, 4),
            (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(17, 22), rng.NextInt(16), 0, 15);
        var a = Codes(rng, n, 15);
        var b = Codes(rng, n, 15);
        var y = new byte[n];
        QuantizedAdd.Forward(a, b, p, y);
        for (int i = 0; i < n; i++) Assert.Equal(QuantizedAdd.Apply(a[i], b[i], p), y[i]);
    }

    [Fact]
    public void Add_HandCase()
    {
        // Δ_a = 0.5, Δ_b = 0.25, Δ_y = 1: twice_max = 1, M_a = 0.5 (M0 = 2^30, shift 0), M_b = 0.25 (2^30, −1),
        // M_y = 1 / 2^20 (2^30, −19). a = 9 (z_a = 1) is 4.0, b = 6 (z_b = 2) is 1.0: a' = 8·2^20·0.5 = 2^22,
        // b' = 4·2^20·0.25 = 2^20, (a' + b')·2^−20 = 5 = 4.0 + 1.0 in Δ_y units; z_y = 3 → 8.
        var p = new QuantizedAddParams(1, 1 << 30, 0, 2, 1 << 30, -1, 1 << 30, -19, 3, 0, 255);
        Assert.Equal(8, QuantizedAdd.Apply(9, 6, p));
        // Fused ReLU: clamp at z_y. a = 1 − 8 → −3.5, b = 2 → 0: −3.5 → −4 (ties away from zero) + 3 = −1 → clamp 3.
        var relu = new QuantizedAddParams(9, 1 << 30, 0, 2, 1 << 30, -1, 1 << 30, -19, 3, 3, 255);
        Assert.Equal(3, QuantizedAdd.Apply(2, 2, relu));
        var y = new byte[1];
        QuantizedAdd.Forward([9], [6], p, y);
        Assert.Equal(8, y[0]);
    }

    [Fact]
    public void Add_VectorEqualsScalar_AllLengths()
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => Add_VectorEqualsScalar_AllLengthsAt());
    }

    private static void Add_VectorEqualsScalar_AllLengthsAt()
    {
        var rng = new Rng(21);
        for (int n = 0; n <= 256; n++)
        {
            var p = new QuantizedAddParams(rng.NextInt(256), (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(1, 4),
                rng.NextInt(256), (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(1, 4),
                (1 << 30) + rng.NextInt(1 << 30), -rng.NextInt(17, 22), rng.NextInt(256), 0, 255);
            var a = Codes(rng, n);
            var b = Codes(rng, n);
            var y = new byte[n];
            QuantizedAdd.Forward(a, b, p, y);
            for (int i = 0; i < n; i++) Assert.Equal(QuantizedAdd.Apply(a[i], b[i], p), y[i]);
        }
    }

    [Fact]
    public void Requantize_VectorEqualsScalar_AllLengths()
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => Requantize_VectorEqualsScalar_AllLengthsAt());
    }

    private static void Requantize_VectorEqualsScalar_AllLengthsAt()
    {
        var rng = new Rng(22);
        for (int n = 0; n <= 256; n++)
        {
            var rq = Requantization.PerTensor((1 << 30) + rng.NextInt(1 << 30), rng.NextInt(-3, 2), rng.NextInt(16), 0, 15);
            int zx = rng.NextInt(256);
            var x = Codes(rng, n);
            var y = new byte[n];
            IntRequantize.Forward(x, zx, rq, y);
            for (int i = 0; i < n; i++) Assert.Equal(IntRequantize.Apply(x[i], zx, rq), y[i]);
        }
    }

    [Theory]
    [InlineData(3, 3, 2, 2, 1, 1, 9, 11)]
    [InlineData(2, 2, 2, 2, 0, 0, 8, 8)]
    [InlineData(1, 1, 2, 2, 0, 0, 7, 9)]
    [InlineData(3, 2, 1, 2, 1, 1, 6, 5)]
    [InlineData(3, 3, 2, 2, 1, 1, 80, 79, 8, 16)]   // a stem's pool at batch 8: planes in parallel, rows of 64 codes and a tail
    [InlineData(3, 3, 2, 2, 1, 1, 160, 160)]         // 80 outputs a row: a full block of 64 and a partial one
    [InlineData(3, 3, 1, 1, 1, 1, 70, 130)]          // stride 1: t is the output row
    [InlineData(2, 2, 2, 2, 0, 0, 33, 17)]           // short rows: 16-code steps with an overlapping tail
    [InlineData(3, 3, 3, 3, 1, 1, 20, 40)]           // stride 3: picked one by one
    [InlineData(5, 5, 2, 2, 2, 2, 9, 200)]
    public void MaxPool_EqualsLoopWithMinusInfinityPadding(int kh, int kw, int sh, int sw, int ph, int pw, int h, int w, int n = 2, int c = 3)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => MaxPool_EqualsLoopWithMinusInfinityPaddingAt(kh, kw, sh, sw, ph, pw, h, w, n, c));
    }

    private static void MaxPool_EqualsLoopWithMinusInfinityPaddingAt(int kh, int kw, int sh, int sw, int ph, int pw, int h, int w, int n = 2, int c = 3)
    {
        var rng = new Rng(23);
        var x = Codes(rng, n * c * h * w);
        int oh = IntPooling.OutputSize(h, kh, sh, ph), ow = IntPooling.OutputSize(w, kw, sw, pw);
        var y = new byte[n * c * oh * ow];
        IntPooling.MaxPool2d(n, c, h, w, kh, kw, sh, sw, ph, pw, x, y);
        for (int p = 0; p < n * c; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int m = -1; // −∞ for codes
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
                            int v = iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : x[(p * h + iy) * w + ix];
                            m = Math.Max(m, v);
                        }
                    Assert.Equal(m, y[(p * oh + oy) * ow + ox]);
                }
    }

    [Theory]
    [InlineData(4, 5, 8, 10)]
    [InlineData(3, 3, 9, 6)]
    [InlineData(7, 1, 14, 2)]
    [InlineData(5, 6, 5, 6)]
    [InlineData(3, 20, 6, 40)]     // factor 2 rows: a 16-code step and an overlapping tail
    [InlineData(2, 40, 4, 80)]     // a 32-code step and a tail
    [InlineData(2, 64, 2, 128)]
    [InlineData(3, 7, 6, 14)]      // shorter than a step: scalar
    public void Upsample_IntegerFactors_MatchPyTorchFormula(int h, int w, int oh, int ow)
    {
        var rng = new Rng(24);
        var x = Codes(rng, 2 * 3 * h * w);
        var y = new byte[2 * 3 * oh * ow];
        IntUpsample.Nearest2d(2, 3, h, w, oh, ow, x, y);
        // PyTorch 'nearest': src = min(⌊dst · (float)(in / out)⌋, in − 1).
        float sy = (float)h / oh, sx = (float)w / ow;
        for (int p = 0; p < 6; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int iy = Math.Min((int)MathF.Floor(oy * sy), h - 1), ix = Math.Min((int)MathF.Floor(ox * sx), w - 1);
                    Assert.Equal(x[(p * h + iy) * w + ix], y[(p * oh + oy) * ow + ox]);
                }
    }
}
