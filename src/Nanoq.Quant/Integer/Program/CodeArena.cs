namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// The byte buffers of one program run, reused by the next: a run rents every value's buffer, <see cref="Reset"/> takes
/// them all back. After the first run at a given input size, steady-state runs allocate nothing (DESIGN.md §2).
/// </summary>
public sealed class CodeArena
{
    private readonly Dictionary<int, Stack<byte[]>> _free = new();
    private readonly List<byte[]> _rented = new();

    public byte[] Rent(int length)
    {
        var b = _free.TryGetValue(length, out var s) && s.Count > 0 ? s.Pop() : GC.AllocateUninitializedArray<byte>(length);
        _rented.Add(b);
        return b;
    }

    public CodeTensor Rent(int[] shape, int zeroPoint, int bits)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return new CodeTensor(Rent(checked((int)n)), shape, zeroPoint, bits);
    }

    /// <summary>Every buffer rented since the last reset becomes free again (their contents are then undefined).</summary>
    public void Reset()
    {
        foreach (var b in _rented)
        {
            if (!_free.TryGetValue(b.Length, out var s)) _free[b.Length] = s = new Stack<byte[]>();
            s.Push(b);
        }
        _rented.Clear();
    }
}
