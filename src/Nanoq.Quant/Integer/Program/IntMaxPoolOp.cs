using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary>k×k max pooling with stride s and padding p on codes (<see cref="CodeOps.MaxPool"/>): the output keeps the input's grid.</summary>
public sealed class IntMaxPoolOp(string name, int input, int output, int kernel, int stride, int padding) : IntOp(name, [input], output)
{
    public override string Kind => "maxpool";
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride;
    public int Padding { get; } = padding;

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var x = inputs[0];
        CheckGrid(x, output.ZeroPoint, output.Bits);
        return CodeOps.MaxPool(x, Kernel, Stride, Padding, arena);
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        var x = inputs[0];
        int n = index[0], c = index[1], oy = index[2], ox = index[3];
        int best = -1, by = 0, bx = 0;
        for (int ky = 0; ky < Kernel; ky++)
            for (int kx = 0; kx < Kernel; kx++)
            {
                int iy = oy * Stride - Padding + ky, ix = ox * Stride - Padding + kx;
                if ((uint)iy >= (uint)x.Height || (uint)ix >= (uint)x.Width) continue;
                int v = x[n, c, iy, ix];
                if (v > best) (best, by, bx) = (v, iy, ix);
            }
        return $"maxpool output [n={n}, c={c}, y={oy}, x={ox}] = max of the {Kernel}x{Kernel} window (stride {Stride}, padding {Padding}) = input [{n}, {c}, {by}, {bx}] = {best} (codes keep the grid: quantization is monotone)";
    }

    public override void WriteAttributes(Utf8JsonWriter w)
    {
        w.WriteNumber("kernel", Kernel);
        w.WriteNumber("stride", Stride);
        w.WriteNumber("padding", Padding);
    }
}
