using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// <see cref="QuantizedAdd"/> of narrow codes as a lookup: when a has k_a bits and b has k_b with k_a + k_b ≤ 8, the
/// output is a function of the pair's 2^(k_a + k_b) ≤ 256 values, so the table
/// <code>
///     T[(a · 2^k_b) | b] = QuantizedAdd.Apply(a, b, p)      for every a &lt; 2^k_a, b &lt; 2^k_b
/// </code>
/// holds every answer, computed once by the scalar reference: bit-identical by construction. 4-bit adds (every add of
/// an FQN 4-bit model) read it 64 codes at a time with AVX-512 VBMI's two-register byte permute (<c>vpermi2b</c>: a
/// 128-byte half each, the index's top bit choosing between them) — a handful of instructions for 64 outputs where the
/// arithmetic takes three fixed-point multiplies per 16. A 64-code block holding a code outside its grid (the program
/// never makes one) is computed by the arithmetic instead, so the result equals <see cref="QuantizedAdd.Forward"/> for
/// any bytes. Without VBMI (AVX2), codes of at most 4 bits each go through 16 <c>vpshufb</c> row lookups and a blend
/// tree (<see cref="Forward256"/>). No split over the cores: at a few bytes per cycle even a batch's largest add takes
/// microseconds.
/// </summary>
public sealed class QuantizedAddTable
{
    private readonly byte[] _table = new byte[256];   // padded to 256: the permutes read four 64-byte quarters

    /// <summary>AVX2's form (codes of at most 4 bits each): row a = T[a · 2^k_b + b] for b &lt; 16, 16 rows of 32 bytes
    /// (the row twice: <c>vpshufb</c> looks up within each 128-bit half).</summary>
    private readonly byte[] _rows = new byte[16 * 32];

    public QuantizedAddTable(QuantizedAddParams parameters, int bitsA, int bitsB)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (bitsA < 1 || bitsB < 1 || bitsA + bitsB > 8)
            throw new ArgumentException($"QuantizedAddTable: codes of {bitsA} and {bitsB} bits do not index a table of at most 256 entries.");
        Parameters = parameters;
        BitsA = bitsA;
        BitsB = bitsB;
        for (int a = 0; a < 1 << bitsA; a++)
            for (int b = 0; b < 1 << bitsB; b++)
                _table[a << bitsB | b] = (byte)QuantizedAdd.Apply(a, b, parameters);
        if (bitsA <= 4 && bitsB <= 4)
            for (int a = 0; a < 1 << bitsA; a++)
                for (int b = 0; b < 1 << bitsB; b++)
                    _rows[32 * a + b] = _rows[32 * a + 16 + b] = _table[a << bitsB | b];
    }

    public QuantizedAddParams Parameters { get; }
    public int BitsA { get; }
    public int BitsB { get; }

    /// <summary>Whether a table serves codes of these widths on this CPU: any split of 8 bits with AVX-512 VBMI, codes of
    /// at most 4 bits each with AVX2 (<c>vpshufb</c> indexes 16 entries).</summary>
    public static bool Suits(int bitsA, int bitsB) => bitsA >= 1 && bitsB >= 1 && bitsA + bitsB <= 8
        && (Vbmi || Simd.IsVector && bitsA <= 4 && bitsB <= 4);

    private static bool Vbmi => Simd.Is512 && Avx512Vbmi.IsSupported;

    /// <summary>y = a ⊕ b element by element, as <see cref="QuantizedAdd.Forward"/>; all three spans the same length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> y)
    {
        if (a.Length != b.Length || a.Length != y.Length)
            throw new ArgumentException($"QuantizedAdd: lengths {a.Length}, {b.Length} and output {y.Length} must be equal.");
        int i = 0, shift = BitsB;
        if (!Vbmi && Simd.IsVector && BitsA <= 4 && BitsB <= 4) i = Forward256(a, b, y);
        else if (Vbmi)
        {
            ref byte ra = ref MemoryMarshal.GetReference(a);
            ref byte rb = ref MemoryMarshal.GetReference(b);
            ref byte ry = ref MemoryMarshal.GetReference(y);
            ref byte t = ref _table[0];
            Vector512<byte> t0 = Vector512.LoadUnsafe(ref t), t1 = Vector512.LoadUnsafe(ref t, 64),
                            t2 = Vector512.LoadUnsafe(ref t, 128), t3 = Vector512.LoadUnsafe(ref t, 192);
            Vector512<byte> maxA = Vector512.Create((byte)((1 << BitsA) - 1)), maxB = Vector512.Create((byte)((1 << BitsB) - 1));
            var top = Vector512.Create((byte)0x80);
            for (; i + 64 <= a.Length; i += 64)
            {
                var va = Vector512.LoadUnsafe(ref ra, (nuint)i);
                var vb = Vector512.LoadUnsafe(ref rb, (nuint)i);
                if (Vector512.GreaterThanAny(va, maxA) || Vector512.GreaterThanAny(vb, maxB))
                {
                    QuantizedAdd.Run(a.Slice(i, 64), b.Slice(i, 64), Parameters, y.Slice(i, 64));
                    continue;
                }
                // a · 2^k_b in 16-bit lanes: each byte's bits stay in their byte (a < 2^k_a, k_a + k_b ≤ 8).
                var index = Vector512.ShiftLeft(va.AsUInt16(), shift).AsByte() | vb;
                var low = Avx512Vbmi.PermuteVar64x8x2(t0, index, t1);     // entries 0–127 by the index's low 7 bits
                var high = Avx512Vbmi.PermuteVar64x8x2(t2, index, t3);    // entries 128–255
                Vector512.ConditionalSelect(Vector512.Equals(index & top, top), high, low).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        int limitA = 1 << BitsA, limitB = 1 << BitsB;
        for (; i < a.Length; i++)
            y[i] = a[i] < limitA && b[i] < limitB ? _table[a[i] << shift | b[i]] : (byte)QuantizedAdd.Apply(a[i], b[i], Parameters);
    }

    /// <summary>
    /// The AVX2 lookup, 32 codes at a time: <c>vpshufb</c> finds T[r, b] in all 16 rows r at once (the index b &lt; 16),
    /// then a tree of byte blends keeps row a — by a's bit 0 among 16, bit 1 among 8, bit 2, bit 3 (<c>vpblendvb</c> reads
    /// each byte's top bit: a shifted left by 7 − bit). 31 instructions for 32 outputs; a block with a code off its grid
    /// goes to the arithmetic. Returns how many codes it did.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe int Forward256(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> y)
    {
        var maxA = Vector256.Create((byte)((1 << BitsA) - 1));
        var maxB = Vector256.Create((byte)((1 << BitsB) - 1));
        int i = 0;
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        fixed (byte* py = y)
        fixed (byte* rows = _rows)
            for (; i + 32 <= a.Length; i += 32)
            {
                var va = Vector256.Load(pa + i);
                var vb = Vector256.Load(pb + i);
                if (Vector256.GreaterThanAny(va, maxA) || Vector256.GreaterThanAny(vb, maxB))
                {
                    QuantizedAdd.Run(a.Slice(i, 32), b.Slice(i, 32), Parameters, y.Slice(i, 32));
                    continue;
                }
                // Byte lanes shifted inside 16-bit lanes: a ≤ 15, so bit k of each byte lands on that byte's top bit.
                var s0 = Vector256.ShiftLeft(va.AsUInt16(), 7).AsByte();
                var s1 = Vector256.ShiftLeft(va.AsUInt16(), 6).AsByte();
                var s2 = Vector256.ShiftLeft(va.AsUInt16(), 5).AsByte();
                var s3 = Vector256.ShiftLeft(va.AsUInt16(), 4).AsByte();
                var low = Avx2.BlendVariable(Quad(rows, 0, vb, s0, s1), Quad(rows, 4, vb, s0, s1), s2);
                var high = Avx2.BlendVariable(Quad(rows, 8, vb, s0, s1), Quad(rows, 12, vb, s0, s1), s2);
                Avx2.BlendVariable(low, high, s3).Store(py + i);
            }
        return i;
    }

    /// <summary>Of rows r0 … r0 + 3, the entry at b of the row that a's bits 0 and 1 pick.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<byte> Quad(byte* rows, int r0, Vector256<byte> b, Vector256<byte> s0, Vector256<byte> s1)
    {
        var x0 = Avx2.BlendVariable(Avx2.Shuffle(Vector256.Load(rows + 32 * r0), b), Avx2.Shuffle(Vector256.Load(rows + 32 * (r0 + 1)), b), s0);
        var x1 = Avx2.BlendVariable(Avx2.Shuffle(Vector256.Load(rows + 32 * (r0 + 2)), b), Avx2.Shuffle(Vector256.Load(rows + 32 * (r0 + 3)), b), s0);
        return Avx2.BlendVariable(x0, x1, s1);
    }
}
