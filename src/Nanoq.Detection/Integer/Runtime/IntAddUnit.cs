using Nanoq.Kernels.Integer;
using Nanoq.Quant.Integer;

namespace Nanoq.Detection.Integer;

/// <summary>
/// A residual or FPN top-down add on codes — the integer counterpart of <see cref="Nn.Taps.AddUnit"/> and its output
/// quantizer (TFLite's quantized ADD, <see cref="QuantizedAdd"/>, constants in an <see cref="IntAddLayer"/>):
/// <code>
///     a' = MultiplyByQuantizedMultiplier((a_q − z_a)·2^L, M_a),   b' = MultiplyByQuantizedMultiplier((b_q − z_b)·2^L, M_b)
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(a' + b', M_y), lo, hi)              lo = z_y with a fused ReLU
/// </code>
/// Operand order follows the float module's <c>Forward(a, b)</c>.
/// </summary>
public sealed class IntAddUnit : IIntUnit
{
    public IntAddUnit(IntAddLayer layer, int outputBits)
    {
        var p = layer.Parameters;
        if (outputBits is < 1 or > 8 || p.ClampMax > (1 << outputBits) - 1)
            throw new ArgumentException($"{layer.Name}: the clamp [{p.ClampMin}, {p.ClampMax}] leaves the {outputBits}-bit output grid.");
        Layer = layer;
        OutputBits = outputBits;
    }

    public IntAddLayer Layer { get; }
    public string Name => Layer.Name;
    public string Key => Name;
    public string Op => "add";
    public QuantizedAddParams Parameters => Layer.Parameters;
    public int OutputBits { get; }
    public int OutputZeroPoint => Parameters.OutputZeroPoint;

    public CodeTensor Forward(CodeTensor a, CodeTensor b, IntForwardContext ctx)
    {
        Check(a, b);
        var y = ctx.Arena.Rent(a.Batch, a.Channels, a.Height, a.Width, OutputZeroPoint, OutputBits);
        Layer.Forward(a.Data, b.Data, y.Data);
        return ctx.After(this, y, a, b);
    }

    /// <summary>The step-by-step computation of output element <paramref name="index"/> (flat NCHW).</summary>
    public AddTrace Audit(CodeTensor a, CodeTensor b, int index)
    {
        Check(a, b);
        return Layer.Trace(a.Data[index], b.Data[index]);
    }

    private void Check(CodeTensor a, CodeTensor b)
    {
        if (!a.SameShape(b)) throw new ArgumentException($"{Name}: operands {a.ShapeText} and {b.ShapeText} differ in shape.");
        if (a.ZeroPoint != Parameters.ZeroPointA || b.ZeroPoint != Parameters.ZeroPointB)
            throw new ArgumentException($"{Name}: operands with zero points {a.ZeroPoint}, {b.ZeroPoint}, converted for {Parameters.ZeroPointA}, {Parameters.ZeroPointB}.");
    }

    public override string ToString() =>
        $"{Name}: add z_a = {Parameters.ZeroPointA}, z_b = {Parameters.ZeroPointB} → z_y = {OutputZeroPoint}, clamp [{Parameters.ClampMin}, {Parameters.ClampMax}]";
}
