using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Nearest-neighbour upsampling on codes (FPN's top-down path): a copy, so the output keeps the input's (Δ, z); an
/// output site with other parameters follows with <see cref="IntRequantize"/>.
/// <code>
///     y[n, c, oy, ox] = x[n, c, ⌊oy·H / OH⌋, ⌊ox·W / OW⌋]
/// </code>
/// in exact integer arithmetic. PyTorch's 'nearest' computes ⌊oy · (H / OH)⌋ with a float scale; the two agree for
/// every integer factor (OH = s·H: ⌊oy/s⌋ both ways), which is what FPN uses, and may differ by one row for
/// ratios whose float scale rounds.
/// </summary>
public static class IntUpsample
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Nearest2d(int batch, int channels, int height, int width, int outHeight, int outWidth,
        ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (height < 1 || width < 1 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException("IntUpsample.Nearest2d: sizes must be positive.");
        if (input.Length != (long)batch * channels * height * width)
            throw new ArgumentException($"IntUpsample.Nearest2d: input has {input.Length} codes, expected [{batch}, {channels}, {height}, {width}].");
        if (output.Length != (long)batch * channels * outHeight * outWidth)
            throw new ArgumentException($"IntUpsample.Nearest2d: output has {output.Length} codes, expected [{batch}, {channels}, {outHeight}, {outWidth}].");
        Span<int> cols = outWidth <= 1024 ? stackalloc int[outWidth] : new int[outWidth];
        for (int ox = 0; ox < outWidth; ox++) cols[ox] = (int)((long)ox * width / outWidth);
        for (int plane = 0; plane < batch * channels; plane++)
        {
            var x = input.Slice(plane * height * width, height * width);
            var y = output.Slice(plane * outHeight * outWidth, outHeight * outWidth);
            for (int oy = 0; oy < outHeight; oy++)
            {
                int iy = (int)((long)oy * height / outHeight);
                var src = x.Slice(iy * width, width);
                var dst = y.Slice(oy * outWidth, outWidth);
                if (oy > 0 && (int)((long)(oy - 1) * height / outHeight) == iy)
                {
                    y.Slice((oy - 1) * outWidth, outWidth).CopyTo(dst); // same source row: copy the row just made
                    continue;
                }
                if (outWidth == 2 * width) DoubleRow(src, dst);
                else for (int ox = 0; ox < outWidth; ox++) dst[ox] = src[cols[ox]];
            }
        }
    }

    /// <summary>
    /// dst[2i] = dst[2i + 1] = src[i] (FPN's factor 2): 16 bytes zero-extended to 16-bit lanes, each lane q | q·2^8 holds
    /// the byte twice; the tail by one more step ending at the row's end (it rewrites the same values). (FPN's rows are
    /// short — 5 to 20 codes at 160 px — so one 256-bit width does.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DoubleRow(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int w = src.Length, i = 0;
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        if (Vector256.IsHardwareAccelerated && w >= 16)
        {
            for (; ; i += 16)
            {
                if (i > w - 16) i = w - 16;
                var q = Vector256.WidenLower(Vector128.LoadUnsafe(ref s, (nuint)i).ToVector256Unsafe());
                (q | (q << 8)).AsByte().StoreUnsafe(ref d, (nuint)(2 * i));
                if (i == w - 16) return;
            }
        }
        for (; i < w; i++) dst[2 * i] = dst[2 * i + 1] = src[i];
    }
}
