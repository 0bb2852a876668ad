using System.Text.Json;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// A quantized add (residual or FPN top-down, with its activation as the clamp) — TFLite's ADD
/// (<see cref="IntAddLayer"/>, <see cref="Convert.AddConverter"/> for the constants): both operands rescaled to a common
/// scale by fixed-point multipliers after a left shift, added, requantized to the output grid. Operands of at most 8
/// bits together (4-bit models) read the answers from a table of every pair instead (<see cref="QuantizedAddTable"/>).
/// </summary>
public sealed class IntAddOp(string name, int a, int b, int output, IntAddLayer layer) : IntOp(name, [a, b], output)
{
    public override string Kind => "add";

    public IntAddLayer Layer { get; } = layer.Name == name ? layer : throw new ArgumentException($"{name}: the layer is named '{layer.Name}'.");

    /// <summary>The lookup for the operands' widths, when they suit one (made on first use; groups racing to make it
    /// make the same table).</summary>
    private QuantizedAddTable? _table;

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        CodeTensor a = inputs[0], b = inputs[1];
        Check(a, b);
        var y = arena.Rent((int[])a.Shape.Clone(), output.ZeroPoint, output.Bits);
        if (QuantizedAddTable.Suits(a.Bits, b.Bits))
        {
            var table = _table;
            if (table is null || table.BitsA != a.Bits || table.BitsB != b.Bits)
                _table = table = new QuantizedAddTable(Layer.Parameters, a.Bits, b.Bits);
            table.Forward(a.Data, b.Data, y.Data);
        }
        else Layer.Forward(a.Data, b.Data, y.Data);
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        Check(inputs[0], inputs[1]);
        int i = inputs[0].IndexOf(index);
        return Layer.Trace(inputs[0].Data[i], inputs[1].Data[i]).ToString();
    }

    private void Check(CodeTensor a, CodeTensor b)
    {
        if (!a.SameShape(b)) throw new ArgumentException($"{Name}: operands {a.ShapeText} and {b.ShapeText} differ in shape.");
        var p = Layer.Parameters;
        CheckGrid(a, p.ZeroPointA, 8, "operand a");
        CheckGrid(b, p.ZeroPointB, 8, "operand b");
    }

    public override void WriteAttributes(Utf8JsonWriter w) => Layer.WriteAttributes(w);
}
