namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// A numbered tensor of the program with its grid's integers: zero point z and bit width k (Δ lives with the float
/// edges and, for people, in the file's metadata). <see cref="Name"/> says where it came from (the tap or op that made it).
/// </summary>
public sealed record IntValue(int Id, string Name, int ZeroPoint, int Bits)
{
    public int QMax => (1 << Bits) - 1;
}
