using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// A stride-2 conv over few input channels (an image stem: 3 channels, one channel unit) as a stride-1 conv over the
/// input's four phases — space-to-depth. With x_p the zero-point-padded input,
/// <code>
///     phase[(py, px), c][i, j] = x_p[c, 2i + py, 2j + px]                                   [N, 4·C, H', W']
///     w'[o, (py, px), c, a, b] = w[o, c, 2a + py, 2b + px]   (z_w[o] where 2a + py ≥ KH or 2b + px ≥ KW)
///     Σ_{c,ky,kx} (w − z_w)(x_p[c, 2oy + ky, 2ox + kx] − z_x) = Σ_{(py,px),c,a,b} (w' − z_w)(phase[..][oy + a, ox + b] − z_x)
/// </code>
/// term for term (the extra taps are 0), so the int32 accumulators, and the codes, are the strided conv's exactly.
/// Why: the strided path gathers every tap of every position (<c>vpgatherdd</c>, slow here) and spends a quarter of its
/// 4-channel units on the missing fourth channel; the phases run on the direct path with full units.
/// H' = OH + ⌈KH/2⌉ − 1 (W' likewise): exactly the rows the outputs read, z_x past the padded input.
/// </summary>
public static unsafe class IntConvPhases
{
    /// <summary>Whether a conv of this shape runs by phases: groups 1, stride 2, dilation 1, one channel unit (≤ 4 channels), a kernel of at least 3.</summary>
    public static bool Suits(int inChannels, int groups, int kernelH, int kernelW, int strideH, int strideW, int dilationH, int dilationW) =>
        IntConv2d.IsAccelerated && groups == 1 && strideH == 2 && strideW == 2 && dilationH == 1 && dilationW == 1
        && inChannels <= 4 && kernelH >= 3 && kernelW >= 3;

    /// <summary>w' of <paramref name="weights"/> (groups 1): [C_out, 4·C_in, ⌈KH/2⌉, ⌈KW/2⌉], same zero points and bit widths.</summary>
    public static IntConv2dWeights Pack(IntConv2dWeights weights)
    {
        if (weights.Groups != 1) throw new ArgumentException("IntConvPhases: grouped convs do not run by phases.");
        int cout = weights.OutChannels, cin = weights.InChannels, kh = weights.KernelH, kw = weights.KernelW;
        int ah = (kh + 1) / 2, aw = (kw + 1) / 2;
        var codes = new byte[cout * 4 * cin * ah * aw];
        var w = weights.Codes;
        var zw = weights.ZeroPoints;
        for (int o = 0; o < cout; o++)
            for (int py = 0; py < 2; py++)
                for (int px = 0; px < 2; px++)
                    for (int c = 0; c < cin; c++)
                        for (int a = 0; a < ah; a++)
                            for (int b = 0; b < aw; b++)
                            {
                                int ky = 2 * a + py, kx = 2 * b + px;
                                int phaseChannel = (py * 2 + px) * cin + c;
                                codes[((o * 4 * cin + phaseChannel) * ah + a) * aw + b] =
                                    ky < kh && kx < kw ? w[((o * cin + c) * kh + ky) * kw + kx] : (byte)zw[o];
                            }
        return IntConv2dWeights.Pack(cout, 4 * cin, ah, aw, 1, codes, zw, weights.WeightBits, weights.InputBits);
    }

    /// <summary>The strided conv <paramref name="g"/> by phases (<paramref name="phases"/> from <see cref="Pack"/>): as <see cref="IntConv2d.Forward"/>.</summary>
    public static void Forward(in Conv2dGeometry g, ReadOnlySpan<byte> input, int inputZeroPoint, IntConv2dWeights phases,
        ReadOnlySpan<int> bias, Requantization rq, Span<byte> output)
    {
        if (!Suits(g.InChannels, g.Groups, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.DilationH, g.DilationW)
            || phases.InChannels != 4 * g.InChannels || phases.KernelH != (g.KernelH + 1) / 2 || phases.KernelW != (g.KernelW + 1) / 2)
            throw new ArgumentException($"IntConvPhases: {g} does not run by phases with weights [{phases.OutChannels}, {phases.InChannels}, {phases.KernelH}, {phases.KernelW}].");
        g.CheckLength("input", input.Length, g.InputLength);
        int hh = g.OutHeight + phases.KernelH - 1, wh = g.OutWidth + phases.KernelW - 1;
        var split = new Conv2dGeometry(g.Batch, 4 * g.InChannels, hh, wh, g.OutChannels, phases.KernelH, phases.KernelW, 1, 1, 0, 0, 1, 1, 1);
        var buffer = ArrayPool<byte>.Shared.Rent(split.InputLength);
        try
        {
            Split(input, g.Batch, g.InChannels, g.Height, g.Width, g.PadH, g.PadW, (byte)inputZeroPoint, hh, wh, buffer);
            IntConv2d.Forward(split, buffer.AsSpan(0, split.InputLength), inputZeroPoint, phases, bias, rq, output);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>phase[n, (py·2 + px)·C + c, i, j] = x_p[n, c, 2i + py, 2j + px] for i &lt; hh, j &lt; wh (z outside x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Split(ReadOnlySpan<byte> x, int n, int c, int h, int w, int padH, int padW, byte z, int hh, int wh, Span<byte> phase)
    {
        int blocks = (wh + 63) / 64;
        // A padded row: padW codes z, the row, z up to every position the even/odd picks read (128 a block of 64 outputs, + 1 for odd).
        int rowLength = 128 * blocks + 64;
        byte[] rent = ArrayPool<byte>.Shared.Rent(rowLength + 64);
        try
        {
            fixed (byte* row = rent)
            fixed (byte* src = x)
            fixed (byte* dst = phase)
            {
                byte* tail = row + rowLength;   // a block of 64 outputs for the last, partial one
                new Span<byte>(row, rowLength).Fill(z);
                int copy = w < rowLength - padW ? w : rowLength - padW;
                int planeOut = hh * wh;
                for (int img = 0; img < n; img++)
                    for (int ch = 0; ch < c; ch++)
                        for (int r = 0; r < 2 * hh; r++)   // padded row r feeds phase row r / 2 of phases (r % 2, 0) and (r % 2, 1)
                        {
                            int sr = r - padH;
                            if (sr >= 0 && sr < h) Buffer.MemoryCopy(src + ((long)(img * c + ch) * h + sr) * w, row + padW, copy, copy);
                            else new Span<byte>(row + padW, copy).Fill(z);
                            int py = r & 1, i = r >> 1;
                            for (int px = 0; px < 2; px++)
                            {
                                byte* o = dst + ((long)(img * 4 + py * 2 + px) * c + ch) * planeOut + (long)i * wh;
                                for (int bk = 0; bk < blocks; bk++)
                                {
                                    byte* s = row + 128 * bk + px;
                                    int j = 64 * bk;
                                    byte* d = j + 64 <= wh ? o + j : tail;
                                    // Every second byte: the low bytes of 64 uint16 (one 512-bit narrow, or two 256-bit).
                                    if (Simd.Is512) Vector512.Narrow(Vector512.Load(s).AsUInt16(), Vector512.Load(s + 64).AsUInt16()).Store(d);
                                    else
                                    {
                                        Vector256.Narrow(Vector256.Load(s).AsUInt16(), Vector256.Load(s + 32).AsUInt16()).Store(d);
                                        Vector256.Narrow(Vector256.Load(s + 64).AsUInt16(), Vector256.Load(s + 96).AsUInt16()).Store(d + 32);
                                    }
                                    if (d == tail) Buffer.MemoryCopy(tail, o + j, wh - j, wh - j);
                                }
                            }
                        }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(rent); }
    }
}
