using Nanoq.Kernels.Integer;
using Nanoq.Quant.Integer;

namespace Nanoq.Detection.Integer;

/// <summary>
/// A conv unit (conv → [BN] → act, BN folded offline) on codes — the integer counterpart of <see cref="Nn.Taps.ConvUnit"/>
/// with its fake quantizers. For output channel c (DESIGN.md §5; gemmlowp's output pipeline):
/// <code>
///     acc = bias_q[c] + Σ (w_q − z_w[c]) · (x_q − z_x)                                  int32, x_q = z_x in the padding
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[c], shift[c]), lo, hi)     the activation is the clamp
/// </code>
/// The constants and arithmetic are an <see cref="IntConvLayer"/>'s (named by <see cref="Key"/>); this unit adds what
/// a network needs around it: it checks that its input is on the grid it was converted for, knows its output grid's
/// bit width, reports to the forward hook, and explains single outputs (<see cref="Audit"/>).
/// </summary>
public sealed class IntConvUnit : IIntUnit, IIntBlock
{
    /// <param name="name">The float tap name.</param>
    /// <param name="layer">The integer conv, named <paramref name="name"/> or <c>name@binding</c>.</param>
    /// <param name="binding">null, or the input grid this variant of a shared conv is for (e.g. "P3"); see <see cref="IIntUnit"/>.</param>
    public IntConvUnit(string name, IntConvLayer layer, int outputBits, string? binding = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (binding is not null && (binding.Length == 0 || binding.Contains('@')))
            throw new ArgumentException($"{name}: binding '{binding}' must be non-empty and without '@'.");
        Name = name;
        Binding = binding;
        if (layer.Name != Key) throw new ArgumentException($"{Key}: the integer conv is named '{layer.Name}'.");
        if (layer.DilationH != 1 || layer.DilationW != 1) throw new ArgumentException($"{Key}: dilated convs are not part of RetinaNet.");
        if (outputBits is < 1 or > 8 || layer.Requantization.ClampMax > (1 << outputBits) - 1)
            throw new ArgumentException($"{Key}: the clamp [{layer.Requantization.ClampMin}, {layer.Requantization.ClampMax}] leaves the {outputBits}-bit output grid.");
        Layer = layer;
        OutputBits = outputBits;
    }

    public string Name { get; }
    public string? Binding { get; }
    public string Key => Binding is null ? Name : Name + "@" + Binding;
    public string Op => "conv";

    /// <summary>Sizes, w_q and z_w[c] (packed), bias_q[c], M0[c], shift[c], z_x, z_y, [lo, hi].</summary>
    public IntConvLayer Layer { get; }

    public int InChannels => Layer.InChannels;
    public int OutChannels => Layer.OutChannels;
    public int InputZeroPoint => Layer.InputZeroPoint;
    public int InputBits => Layer.InputBits;
    public int OutputZeroPoint => Layer.Requantization.OutputZeroPoint;
    public int OutputBits { get; }

    /// <summary>y_q for input codes x (checked to be on this unit's input grid).</summary>
    public CodeTensor Forward(CodeTensor x, IntForwardContext ctx)
    {
        CheckInput(x);
        var g = Layer.Geometry(x.Batch, x.Height, x.Width);
        var y = ctx.Arena.Rent(x.Batch, OutChannels, g.OutHeight, g.OutWidth, OutputZeroPoint, OutputBits);
        Layer.Forward(x.Batch, x.Height, x.Width, x.Data, y.Data);
        return ctx.After(this, y, x);
    }

    /// <summary>
    /// The step-by-step integer computation of output [n, c, oy, ox] for input codes x (recomputed from the codes and
    /// constants by <see cref="IntAudit"/>, independently of the kernels).
    /// </summary>
    public ConvTrace Audit(CodeTensor x, int n, int c, int oy, int ox)
    {
        CheckInput(x);
        return Layer.Trace(x.Batch, x.Height, x.Width, x.Data, n, c, oy, ox);
    }

    private void CheckInput(CodeTensor x)
    {
        if (x.Channels != InChannels)
            throw new ArgumentException($"{Key}: input {x} has {x.Channels} channels, the conv reads {InChannels}.");
        if (x.ZeroPoint != InputZeroPoint || x.Bits > InputBits)
            throw new ArgumentException($"{Key}: input {x} is not on the grid this conv was converted for (z_x = {InputZeroPoint}, {InputBits} bits).");
    }

    public override string ToString() =>
        $"{Key}: conv {InChannels}→{OutChannels} {Layer.KernelH}x{Layer.KernelW}/{Layer.StrideH} groups {Layer.Groups}, " +
        $"{Layer.Weights.WeightBits}-bit weights ({Layer.Weights.Path}), z_x = {InputZeroPoint}, z_y = {OutputZeroPoint}, " +
        $"clamp [{Layer.Requantization.ClampMin}, {Layer.Requantization.ClampMax}]";
}
