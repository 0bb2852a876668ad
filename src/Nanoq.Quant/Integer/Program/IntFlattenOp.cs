using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary><c>torch.flatten(x, start_dim)</c> on codes: the same bytes under a shape that merges every axis from the start axis on.</summary>
public sealed class IntFlattenOp(string name, int input, int output, int startAxis) : IntOp(name, [input], output)
{
    public override string Kind => "flatten";
    public int StartAxis { get; } = startAxis;
    public override bool KeepsRowsApart => StartAxis != 0;

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var x = inputs[0];
        CheckGrid(x, output.ZeroPoint, output.Bits);
        if (StartAxis >= x.Rank) throw new ArgumentException($"{Name}: start axis {StartAxis} of {x}.");
        var shape = new int[StartAxis + 1];
        Array.Copy(x.Shape, shape, StartAxis);
        shape[StartAxis] = 1;
        for (int d = StartAxis; d < x.Rank; d++) shape[StartAxis] *= x.Shape[d];
        // A view: the same buffer under the merged shape (no op writes its inputs; the arena frees it with the run).
        return new CodeTensor(x.Data, shape, x.ZeroPoint, x.Bits);
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        var x = inputs[0];
        var shape = new int[StartAxis + 1];
        Array.Copy(x.Shape, shape, StartAxis);
        shape[StartAxis] = x.Length / IntMath.Max(1, shape.Take(StartAxis).Aggregate(1, (a, b) => a * b));
        int f = 0;
        for (int d = 0; d < index.Length; d++) f = f * shape[d] + index[d];
        var src = x.IndexAt(f);
        return $"flatten output [{string.Join(", ", index)}] = input [{string.Join(", ", src)}] = {x.Data[f]} (the same byte)";
    }

    public override void WriteAttributes(Utf8JsonWriter w) => w.WriteNumber("start_axis", StartAxis);
}
