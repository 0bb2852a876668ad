using System.Text;
using System.Text.Json;
using Nanoq.Quant.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// A linear unit (fc → activation) on codes [N, in] → [N, out], with the conv's arithmetic (<see cref="IntLinearLayer"/>):
/// acc = bias_q[o] + Σ (w_q − z_w[o])·(x_q − z_x), requantized with M0[o], shift[o] and clamped.
/// </summary>
public sealed class IntLinearOp(string name, int input, int output, IntLinearLayer layer) : IntOp(name, [input], output)
{
    public override string Kind => "linear";

    public IntLinearLayer Layer { get; } = layer.Name == name ? layer : throw new ArgumentException($"{name}: the layer is named '{layer.Name}'.");

    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena)
    {
        var x = Check(inputs[0]);
        var y = arena.Rent([x.Shape[0], Layer.OutFeatures], output.ZeroPoint, output.Bits);
        Layer.Forward(x.Shape[0], x.Data, y.Data);
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index)
    {
        var x = Check(inputs[0]);
        if (index.Length != 2) throw new ArgumentException($"{Name}: a linear output is indexed [n, o].");
        int n = index[0], o = index[1], f = Layer.InFeatures;
        if ((uint)n >= (uint)x.Shape[0] || (uint)o >= (uint)Layer.OutFeatures)
            throw new ArgumentOutOfRangeException(nameof(index), $"{Name}: output [{n}, {o}] lies outside [{x.Shape[0]}, {Layer.OutFeatures}].");
        var w = Layer.Weights.Codes;
        int zw = Layer.Weights.ZeroPoints[o], zx = Layer.InputZeroPoint;
        long dot = 0;
        for (int i = 0; i < f; i++) dot += (long)(w[o * f + i] - zw) * (x.Data[n * f + i] - zx);
        var rq = Layer.Requantization;
        long acc = dot + Layer.Bias[o];
        var step = FixedPointTrace.Of((int)acc, rq.Multiplier(o), rq.Shift(o), rq.Rounding);
        int pre = rq.OutputZeroPoint + step.Result;
        int y = IntMath.Clamp(pre, rq.ClampMin, rq.ClampMax);
        var s = new StringBuilder();
        s.Append($"linear output [n={n}, o={o}]: {f} terms\n");
        s.Append($"  Σ (w − z_w)(x − z_x) with z_w = {zw}, z_x = {zx} = {dot}\n");
        s.Append($"  + bias_q = {Layer.Bias[o]} → acc = {acc}\n");
        s.Append(step);
        s.Append($"  + z_y = {step.Result} + {rq.OutputZeroPoint} = {pre}\n");
        s.Append($"  clamp to [{rq.ClampMin}, {rq.ClampMax}] → y_q = {y}\n");
        return s.ToString();
    }

    private CodeTensor Check(CodeTensor x)
    {
        if (x.Rank != 2 || x.Shape[1] != Layer.InFeatures)
            throw new ArgumentException($"{Name}: input {x} is not [N, {Layer.InFeatures}].");
        CheckGrid(x, Layer.InputZeroPoint, Layer.Weights.InputBits);
        return x;
    }

    public override IEnumerable<IntTensor> Tensors() => Layer.ToTensors();

    public override void WriteAttributes(Utf8JsonWriter w) => Layer.WriteAttributes(w);
}
