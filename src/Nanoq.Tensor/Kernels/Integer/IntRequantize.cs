using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Codes of one quantizer to codes of another (an activation site whose parameters differ from its producer's, e.g.
/// after nearest upsampling or at a concat):
/// <code>
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(x_q − z_x, M0, shift), lo, hi),   M = Δ_x / Δ_y
/// </code>
/// 16 lanes at a time, bit-identical to <see cref="Apply"/>.
/// </summary>
public static unsafe class IntRequantize
{
    /// <summary>One code; <paramref name="rq"/> is per tensor (its channel 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Apply(int x, int inputZeroPoint, Requantization rq) => rq.Apply(x - inputZeroPoint, 0);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<byte> input, int inputZeroPoint, Requantization rq, Span<byte> output)
    {
        if (input.Length != output.Length)
            throw new ArgumentException($"IntRequantize: input has {input.Length} codes, output {output.Length}.");
        if (rq.Channels != 1) throw new ArgumentException("IntRequantize: needs a per-tensor requantization.");
        if ((uint)inputZeroPoint > 255) throw new ArgumentOutOfRangeException(nameof(inputZeroPoint));
        int i = 0;
        if (Simd.Is512)
        {
            ref byte rx = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(input);
            ref byte ry = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(output);
            int offset = -inputZeroPoint;
            for (; i + 16 <= input.Length; i += 16)
            {
                var v = rq.Apply(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref rx, (nuint)i)), offset, 0);
                Avx512F.ConvertToVector128Byte(v).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        else if (Simd.IsVector)
            fixed (byte* x = input)
            fixed (byte* y = output)
                for (; i + 16 <= input.Length; i += 16)
                    Narrow.ToBytes(rq.Apply(Avx2.ConvertToVector256Int32(x + i), -inputZeroPoint, 0),
                        rq.Apply(Avx2.ConvertToVector256Int32(x + i + 8), -inputZeroPoint, 0)).Store(y + i);
        for (; i < input.Length; i++) output[i] = (byte)Apply(input[i], inputZeroPoint, rq);
    }
}
