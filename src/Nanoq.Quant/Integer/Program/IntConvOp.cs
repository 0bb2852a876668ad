using System.Text.Json;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// A conv unit (conv → folded BN → activation) on codes — DESIGN.md §5, gemmlowp's output pipeline, for output channel c:
/// <code>
///     acc = bias_q[c] + Σ (w_q − z_w[c]) · (x_q − z_x)                                  int32, x_q = z_x in the padding
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[c], shift[c]), lo, hi)     the activation is the clamp
/// </code>
/// The arithmetic is <see cref="IntConvLayer"/>'s. A layer that runs on several inputs (a shared head, once a pyramid
/// level) becomes one op per call, each converted for its input's grid (z_x, bias_q, M differ); they share the weight
/// codes, stored once under the first op's name (<see cref="WeightsFrom"/>).
/// </summary>
public sealed class IntConvOp(string name, int input, int output, IntConvLayer layer, string? weightsFrom = null) : IntOp(name, [input], output)
{
    public override string Kind => "conv2d";

    public IntConvLayer Layer { get; } = layer.Name == name ? layer : throw new ArgumentException($"{name}: the layer is named '{layer.Name}'.");

    /// <summary>The op whose stored weight codes this one shares, or null when it stores its own.</summary>
    public string? WeightsFrom { get; } = weightsFrom;

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var x = Check(inputs[0]);
        var g = Layer.Geometry(x.Batch, x.Height, x.Width);
        var y = arena.Rent([x.Batch, Layer.OutChannels, g.OutHeight, g.OutWidth], output.ZeroPoint, output.Bits);
        Layer.Forward(x.Batch, x.Height, x.Width, x.Data, y.Data);
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        var x = Check(inputs[0]);
        if (index.Length != 4) throw new ArgumentException($"{Name}: a conv output is indexed [n, c, y, x].");
        return Layer.Trace(x.Batch, x.Height, x.Width, x.Data, index[0], index[1], index[2], index[3]).ToString();
    }

    private CodeTensor Check(CodeTensor x)
    {
        if (x.Rank != 4 || x.Channels != Layer.InChannels)
            throw new ArgumentException($"{Name}: input {x} is not [N, {Layer.InChannels}, H, W].");
        CheckGrid(x, Layer.InputZeroPoint, Layer.InputBits);
        return x;
    }

    public override IEnumerable<IntTensor> Tensors() =>
        WeightsFrom is null ? Layer.ToTensors() : Layer.ToTensors().Where(t => !t.Name.EndsWith(".weight", StringComparison.Ordinal)
                                                                              && !t.Name.EndsWith(".weight_zero_point", StringComparison.Ordinal));

    public override void WriteAttributes(Utf8JsonWriter w)
    {
        Layer.WriteAttributes(w);
        if (WeightsFrom is not null) w.WriteString("weights", WeightsFrom);
    }

    public override string ToString() =>
        $"{Name}: conv {Layer.InChannels}→{Layer.OutChannels} {Layer.KernelH}x{Layer.KernelW}/{Layer.StrideH} groups {Layer.Groups}, " +
        $"{Layer.Weights.WeightBits}-bit weights, z_x = {Layer.InputZeroPoint}, z_y = {Layer.Requantization.OutputZeroPoint}, " +
        $"clamp [{Layer.Requantization.ClampMin}, {Layer.Requantization.ClampMax}] [{Inputs[0]}] → {Output}";
}
