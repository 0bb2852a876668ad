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
/// any bytes. No split over the cores: at a few bytes per cycle even a batch's largest add takes microseconds.
/// </summary>
public sealed class QuantizedAddTable
{
    private readonly byte[] _table = new byte[256];   // padded to 256: the permutes read four 64-byte quarters

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
    }

    public QuantizedAddParams Parameters { get; }
    public int BitsA { get; }
    public int BitsB { get; }

    /// <summary>Whether a table serves codes of these widths on this CPU (the lookup needs AVX-512 VBMI).</summary>
    public static bool Suits(int bitsA, int bitsB) => bitsA >= 1 && bitsB >= 1 && bitsA + bitsB <= 8 && Avx512Vbmi.IsSupported;

    /// <summary>y = a ⊕ b element by element, as <see cref="QuantizedAdd.Forward"/>; all three spans the same length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> y)
    {
        if (a.Length != b.Length || a.Length != y.Length)
            throw new ArgumentException($"QuantizedAdd: lengths {a.Length}, {b.Length} and output {y.Length} must be equal.");
        int i = 0, shift = BitsB;
        if (Avx512Vbmi.IsSupported)
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
}
