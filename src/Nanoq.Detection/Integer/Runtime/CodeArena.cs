namespace Nanoq.Detection.Integer;

/// <summary>
/// The byte buffers of one forward pass, reused by the next (DESIGN.md §2: steady-state inference allocates nothing
/// large; a fresh page costs about 12 µs to touch, which at batch 8 would be a sizeable part of the integer forward).
/// A pass rents every activation it makes; <see cref="Reset"/> at the end of the pass takes them all back. With the same
/// input size every pass, the second pass onwards finds each buffer it needs already made. Not thread-safe: one
/// forward at a time per arena (a graph owns one).
/// </summary>
public sealed class CodeArena
{
    private readonly Dictionary<int, Stack<byte[]>> _free = new();
    private readonly List<byte[]> _rented = new();

    /// <summary>A buffer of exactly <paramref name="length"/> bytes, contents undefined.</summary>
    public byte[] Rent(int length)
    {
        var b = _free.TryGetValue(length, out var s) && s.Count > 0 ? s.Pop() : GC.AllocateUninitializedArray<byte>(length);
        _rented.Add(b);
        return b;
    }

    /// <summary>A code tensor backed by a rented buffer.</summary>
    public CodeTensor Rent(int batch, int channels, int height, int width, int zeroPoint, int bits) =>
        new(Rent(checked(batch * channels * height * width)), batch, channels, height, width, zeroPoint, bits);

    /// <summary>Every rented buffer becomes free again (the tensors made from them must no longer be used).</summary>
    public void Reset()
    {
        foreach (var b in _rented)
        {
            if (!_free.TryGetValue(b.Length, out var s)) _free[b.Length] = s = new Stack<byte[]>();
            s.Push(b);
        }
        _rented.Clear();
    }

    /// <summary>Bytes held (rented and free).</summary>
    public long Bytes => _free.Values.Sum(s => s.Sum(b => (long)b.Length)) + _rented.Sum(b => (long)b.Length);
}
