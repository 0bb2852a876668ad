namespace Nanoq.Quant;

/// <summary>
/// The integer grid of a k-bit quantizer: codes 0 … 2^k − 1, asymmetric and unsigned for weights and activations
/// alike (DESIGN.md §5). k ranges over 2..8: below 2 there is no affine grid worth the name (binary networks are
/// their own scheme, <see cref="QuantScheme.Xnor"/>), above 8 the codes no longer fit the byte runtime.
/// </summary>
public static class QuantBits
{
    public const int Min = 2;
    public const int Max = 8;

    /// <summary>Throws unless 2 ≤ <paramref name="bits"/> ≤ 8.</summary>
    public static void Check(int bits, string? what = null)
    {
        if (bits is < Min or > Max)
            throw new ArgumentOutOfRangeException(nameof(bits),
                $"{what ?? "Quantizer"}: {bits} bits is not supported; affine quantization takes {Min}..{Max} bits (codes 0..2^k − 1).");
    }

    /// <summary>The largest code, 2^k − 1 (quant_max; quant_min is 0).</summary>
    public static int QMax(int bits)
    {
        Check(bits);
        return (1 << bits) - 1;
    }
}
