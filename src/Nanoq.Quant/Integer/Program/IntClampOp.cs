using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// ReLU or ReLU6 on codes: y_q = clamp(x_q, lo, hi) on the input's grid — ReLU is lo = z (real 0), ReLU6 also
/// hi = z + round(6/Δ) (set at conversion). FPN's ReLU before P7.
/// </summary>
public sealed class IntClampOp(string name, int input, int output, int lo, int hi) : IntOp(name, [input], output)
{
    public override string Kind => "clamp";
    public int Lo { get; } = lo;
    public int Hi { get; } = hi;

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var x = inputs[0];
        CheckGrid(x, output.ZeroPoint, output.Bits);
        var y = arena.Rent((int[])x.Shape.Clone(), x.ZeroPoint, x.Bits);
        System.Numerics.Tensors.TensorPrimitives.Max(x.Data, (byte)Lo, y.Data);
        System.Numerics.Tensors.TensorPrimitives.Min(y.Data, (byte)Hi, y.Data);
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        int v = inputs[0][index];
        return $"clamp output [{string.Join(", ", index)}] = clamp({v}, {Lo}, {Hi}) = {IntMath.Clamp(v, Lo, Hi)}";
    }

    public override void WriteAttributes(Utf8JsonWriter w)
    {
        w.WriteNumber("lo", Lo);
        w.WriteNumber("hi", Hi);
    }
}
