using System.Text.Json;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// Nearest-neighbour resize of codes to the spatial size of a second value (FPN's top-down step: the lateral's size),
/// src = ⌊dst·in/out⌋ as the float model: a copy, so the grid is the input's.
/// </summary>
public sealed class IntUpsampleOp(string name, int input, int sizeOf, int output) : IntOp(name, [input, sizeOf], output)
{
    public override string Kind => "upsample";

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var x = inputs[0];
        CheckGrid(x, output.ZeroPoint, output.Bits);
        int h = inputs[1].Height, w = inputs[1].Width;
        var y = arena.Rent([x.Batch, x.Channels, h, w], x.ZeroPoint, x.Bits);
        IntUpsample.Nearest2d(x.Batch, x.Channels, x.Height, x.Width, h, w, x.Data, y.Data);
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        var x = inputs[0];
        int h = inputs[1].Height, w = inputs[1].Width;
        int sy = (int)((long)index[2] * x.Height / h), sx = (int)((long)index[3] * x.Width / w);
        return $"upsample output [{string.Join(", ", index)}] = input [{index[0]}, {index[1]}, {sy}, {sx}] = {x[index[0], index[1], sy, sx]} (nearest: src = ⌊dst·{x.Height}/{h}⌋, ⌊dst·{x.Width}/{w}⌋)";
    }

    public override void WriteAttributes(Utf8JsonWriter w) { }
}
