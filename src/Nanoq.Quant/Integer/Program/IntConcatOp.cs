using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary>Concatenation of codes along an axis; every input is on the output's grid (conversion checks it), so it is a copy.</summary>
public sealed class IntConcatOp(string name, int[] inputs, int output, int axis) : IntOp(name, inputs, output)
{
    public override string Kind => "concat";
    public int Axis { get; } = axis;
    public override bool KeepsRowsApart => Axis != 0;

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var first = inputs[0];
        var shape = (int[])first.Shape.Clone();
        shape[Axis] = 0;
        foreach (var x in inputs)
        {
            CheckGrid(x, output.ZeroPoint, output.Bits);
            if (x.Rank != first.Rank) throw new ArgumentException($"{Name}: inputs of ranks {first.Rank} and {x.Rank}.");
            for (int d = 0; d < x.Rank; d++)
                if (d != Axis && x.Shape[d] != first.Shape[d]) throw new ArgumentException($"{Name}: inputs {first.ShapeText} and {x.ShapeText} differ off axis {Axis}.");
            shape[Axis] += x.Shape[Axis];
        }
        var y = arena.Rent(shape, output.ZeroPoint, output.Bits);
        int outer = 1, inner = 1;
        for (int d = 0; d < Axis; d++) outer *= shape[d];
        for (int d = Axis + 1; d < shape.Length; d++) inner *= shape[d];
        int at = 0;
        for (int o = 0; o < outer; o++)
            foreach (var x in inputs)
            {
                int block = x.Shape[Axis] * inner;
                x.Data.AsSpan(o * block, block).CopyTo(y.Data.AsSpan(at));
                at += block;
            }
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        int k = index[Axis];
        for (int i = 0; i < inputs.Count; i++)
        {
            if (k < inputs[i].Shape[Axis])
            {
                var src = (int[])index.Clone();
                src[Axis] = k;
                return $"concat output [{string.Join(", ", index)}] = input {i} [{string.Join(", ", src)}] = {inputs[i][src]} (a copy)";
            }
            k -= inputs[i].Shape[Axis];
        }
        throw new ArgumentOutOfRangeException(nameof(index), $"{Name}: index [{string.Join(", ", index)}] lies outside the concatenation.");
    }

    public override void WriteAttributes(Utf8JsonWriter w) => w.WriteNumber("axis", Axis);
}
