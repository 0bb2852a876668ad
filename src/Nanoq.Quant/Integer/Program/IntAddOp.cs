using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// A quantized add (residual or FPN top-down, with its activation as the clamp) — TFLite's ADD
/// (<see cref="IntAddLayer"/>, <see cref="Convert.AddConverter"/> for the constants): both operands rescaled to a common
/// scale by fixed-point multipliers after a left shift, added, requantized to the output grid.
/// </summary>
public sealed class IntAddOp(string name, int a, int b, int output, IntAddLayer layer) : IntOp(name, [a, b], output)
{
    public override string Kind => "add";

    public IntAddLayer Layer { get; } = layer.Name == name ? layer : throw new ArgumentException($"{name}: the layer is named '{layer.Name}'.");

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        Check(inputs[0], inputs[1]);
        var y = arena.Rent((int[])inputs[0].Shape.Clone(), output.ZeroPoint, output.Bits);
        Layer.Forward(inputs[0].Data, inputs[1].Data, y.Data);
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
