namespace Nanoq.Detection.Integer;

/// <summary>
/// An activation of the integer runtime: codes [N, C, H, W], one per byte, on the k-bit grid [0, 2^k − 1] of the
/// quantizer that produced them, with that quantizer's zero point z (the code of real 0). The scale Δ is not here: the
/// runtime never needs it — every rescaling was folded offline into the next layer's fixed-point multipliers; only the
/// float edges (<see cref="ImageQuantizer"/>, <see cref="HeadDequantizer"/>) hold a Δ.
/// <para>
/// <see cref="Data"/> is exactly <see cref="Length"/> bytes. Inside a forward pass the buffers come from the graph's
/// <see cref="CodeArena"/> and are reused by the next pass: copy (<see cref="Clone"/>) what you keep.
/// </para>
/// </summary>
public sealed class CodeTensor
{
    public CodeTensor(byte[] data, int batch, int channels, int height, int width, int zeroPoint, int bits)
    {
        if (batch < 0 || channels < 1 || height < 1 || width < 1)
            throw new ArgumentException($"CodeTensor: shape [{batch}, {channels}, {height}, {width}] must be positive (batch ≥ 0).");
        if (bits is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(bits), bits, "CodeTensor: codes take 1..8 bits.");
        if ((uint)zeroPoint > (uint)((1 << bits) - 1))
            throw new ArgumentOutOfRangeException(nameof(zeroPoint), zeroPoint, $"CodeTensor: the zero point is off the {bits}-bit grid.");
        long length = (long)batch * channels * height * width;
        if (data.Length != length)
            throw new ArgumentException($"CodeTensor: {data.Length} codes for shape [{batch}, {channels}, {height}, {width}] ({length}).");
        Data = data;
        Batch = batch;
        Channels = channels;
        Height = height;
        Width = width;
        ZeroPoint = zeroPoint;
        Bits = bits;
    }

    public byte[] Data { get; }
    public int Batch { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>z: the code of real 0.</summary>
    public int ZeroPoint { get; }

    /// <summary>k: codes lie in [0, 2^k − 1].</summary>
    public int Bits { get; }

    public int Length => Data.Length;

    /// <summary>Index of element [n, c, y, x].</summary>
    public int IndexOf(int n, int c, int y, int x) => ((n * Channels + c) * Height + y) * Width + x;

    public byte this[int n, int c, int y, int x] => Data[IndexOf(n, c, y, x)];

    /// <summary>A copy in a fresh array (outside any arena).</summary>
    public CodeTensor Clone() => new((byte[])Data.Clone(), Batch, Channels, Height, Width, ZeroPoint, Bits);

    public bool SameShape(CodeTensor other) =>
        Batch == other.Batch && Channels == other.Channels && Height == other.Height && Width == other.Width;

    public string ShapeText => $"[{Batch}, {Channels}, {Height}, {Width}]";

    public override string ToString() => $"codes {ShapeText} ({Bits}-bit, z = {ZeroPoint})";
}
