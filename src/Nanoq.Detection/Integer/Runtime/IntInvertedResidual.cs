namespace Nanoq.Detection.Integer;

/// <summary>
/// MobileNetV2 block on codes, as <see cref="Nn.Backbones.InvertedResidual"/>:
/// <code>
///     h = [expand_relu6(x)] → depthwise_relu6 → project (linear)
///     y = add(x, h) when the block keeps size and channels, else h
/// </code>
/// ReLU6 is the clamp [z_y, min(2^k − 1, z_y + round(6/Δ_y))]; the depthwise conv runs the direct kernel.
/// </summary>
public sealed class IntInvertedResidual(IReadOnlyList<IntConvUnit> pre, IntConvUnit project, IntAddUnit? add) : IIntBlock
{
    public IReadOnlyList<IntConvUnit> Pre { get; } = pre;
    public IntConvUnit Project { get; } = project;
    public IntAddUnit? Add { get; } = add;

    public CodeTensor Forward(CodeTensor x, IntForwardContext ctx)
    {
        var h = x;
        foreach (var p in Pre) h = p.Forward(h, ctx);
        h = Project.Forward(h, ctx);
        return Add is null ? h : Add.Forward(x, h, ctx);
    }

    public IEnumerable<IIntUnit> Layers
    {
        get
        {
            foreach (var p in Pre) yield return p;
            yield return Project;
            if (Add is not null) yield return Add;
        }
    }
}
