namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// A value of the integer program: codes of any shape (NCHW feature maps, [N, F] fc inputs), one per byte, on the k-bit
/// grid [0, 2^k − 1] of the quantizer that produced them, with its zero point z (the code of real 0). The scale Δ is not
/// here: the runtime never needs it — every rescaling was folded offline into fixed-point multipliers; only the float
/// edges hold a Δ. Inside a run the buffers come from the program's <see cref="CodeArena"/> and are reused by the next
/// run: <see cref="Clone"/> what you keep.
/// </summary>
public sealed class CodeTensor
{
    public CodeTensor(byte[] data, int[] shape, int zeroPoint, int bits)
    {
        if (shape.Length == 0 || shape.Any(d => d < 0)) throw new ArgumentException($"CodeTensor: shape [{string.Join(", ", shape)}] must have non-negative dimensions.");
        if (bits is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(bits), bits, "CodeTensor: codes take 1..8 bits.");
        if ((uint)zeroPoint > (uint)((1 << bits) - 1))
            throw new ArgumentOutOfRangeException(nameof(zeroPoint), zeroPoint, $"CodeTensor: the zero point is off the {bits}-bit grid.");
        long length = 1;
        foreach (int d in shape) length *= d;
        if (data.Length != length) throw new ArgumentException($"CodeTensor: {data.Length} codes for shape [{string.Join(", ", shape)}] ({length}).");
        Data = data;
        Shape = shape;
        ZeroPoint = zeroPoint;
        Bits = bits;
    }

    /// <summary>NCHW codes.</summary>
    public CodeTensor(byte[] data, int batch, int channels, int height, int width, int zeroPoint, int bits)
        : this(data, [batch, channels, height, width], zeroPoint, bits) { }

    public byte[] Data { get; }
    public int[] Shape { get; }
    public int Rank => Shape.Length;

    /// <summary>z: the code of real 0.</summary>
    public int ZeroPoint { get; }

    /// <summary>k: codes lie in [0, 2^k − 1].</summary>
    public int Bits { get; }

    public int Length => Data.Length;

    public int Batch => Shape[0];
    public int Channels => Shape[1];
    public int Height => Rank == 4 ? Shape[2] : throw new InvalidOperationException($"CodeTensor {ShapeText} is not NCHW.");
    public int Width => Rank == 4 ? Shape[3] : throw new InvalidOperationException($"CodeTensor {ShapeText} is not NCHW.");

    /// <summary>The flat index of a multi-index; throws naming the index and the shape when it lies outside.</summary>
    public int IndexOf(params int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"CodeTensor: a {index.Length}-part index for shape {ShapeText}.");
        int flat = 0;
        for (int i = 0; i < Rank; i++)
        {
            if ((uint)index[i] >= (uint)Shape[i])
                throw new ArgumentOutOfRangeException(nameof(index), $"index [{string.Join(", ", index)}] lies outside shape {ShapeText} (axis {i}).");
            flat = flat * Shape[i] + index[i];
        }
        return flat;
    }

    /// <summary>The multi-index of a flat index.</summary>
    public int[] IndexAt(int flat)
    {
        var r = new int[Rank];
        for (int i = Rank - 1; i >= 0; i--)
        {
            r[i] = flat % Shape[i];
            flat /= Shape[i];
        }
        return r;
    }

    public byte this[params int[] index] => Data[IndexOf(index)];

    /// <summary>A copy in a fresh array (outside any arena).</summary>
    public CodeTensor Clone() => new((byte[])Data.Clone(), (int[])Shape.Clone(), ZeroPoint, Bits);

    public bool SameShape(CodeTensor other) => Shape.AsSpan().SequenceEqual(other.Shape);

    public string ShapeText => $"[{string.Join(", ", Shape)}]";

    public override string ToString() => $"codes {ShapeText} ({Bits}-bit, z = {ZeroPoint})";
}
