using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// <c>x.narrow(axis, start, length)</c> on codes: the elements [start, start + length) along one axis, copied. Imported
/// ONNX graphs use it to crop the trailing row or column that padding both sides adds where a window's end padding is
/// shorter than its begin padding (CNTK's <c>pads = [1, 1, 0, 0]</c>). The crop depends on the input size (it exists
/// only where a strided window meets an odd size), so the op holds the input length it was traced at and refuses any
/// other: convert at the size you run (detectors pad to multiples of 32, where CNTK's ResNet-18 crops nothing).
/// </summary>
public sealed class IntSliceOp(string name, int input, int output, int axis, int start, int length, int inputLength) : IntOp(name, [input], output)
{
    /// <summary>The length of the sliced axis in the traced input.</summary>
    public int InputLength { get; } = inputLength;

    public override string Kind => "slice";
    public int Axis { get; } = axis;
    public override bool KeepsRowsApart => Axis != 0;
    public int Start { get; } = start;
    public int Length { get; } = length;

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var x = inputs[0];
        CheckGrid(x, output.ZeroPoint, output.Bits);
        if (Axis >= x.Rank || Start < 0 || Length < 0 || Start + Length > x.Shape[Axis])
            throw new ArgumentException($"{Name}: [{Start}, {Start + Length}) along axis {Axis} of {x}.");
        if (x.Shape[Axis] != InputLength)
            throw new ArgumentException($"{Name}: traced for {InputLength} along axis {Axis}, got {x}; the crop depends on the input size, so convert at the size you run.");
        var shape = (int[])x.Shape.Clone();
        shape[Axis] = Length;
        var y = arena.Rent(shape, x.ZeroPoint, x.Bits);
        int outer = 1, inner = 1;
        for (int d = 0; d < Axis; d++) outer *= x.Shape[d];
        for (int d = Axis + 1; d < x.Rank; d++) inner *= x.Shape[d];
        int from = x.Shape[Axis] * inner, to = Length * inner;
        for (int o = 0; o < outer; o++)
            Array.Copy(x.Data, o * from + Start * inner, y.Data, o * to, to);
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        var x = inputs[0];
        var src = (int[])index.Clone();
        src[Axis] += Start;
        return $"slice output [{string.Join(", ", index)}] = input [{string.Join(", ", src)}] = {x.Data[x.IndexOf(src)]} (a copy)";
    }

    public override void WriteAttributes(Utf8JsonWriter w)
    {
        w.WriteNumber("axis", Axis);
        w.WriteNumber("start", Start);
        w.WriteNumber("length", Length);
        w.WriteNumber("input_length", InputLength);
    }
}
