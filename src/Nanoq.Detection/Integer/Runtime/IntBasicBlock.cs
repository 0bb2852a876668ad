namespace Nanoq.Detection.Integer;

/// <summary>
/// ResNet-18/34 block on codes, as <see cref="Nn.Backbones.BasicBlock"/>:
/// <code>
///     y = add_relu(conv2(conv1_relu(x)), downsample(x) or x)
/// </code>
/// conv2 and the downsample have no activation (their output quantizers keep negative values); the add clamps at z_y.
/// </summary>
public sealed class IntBasicBlock(IntConvUnit conv1, IntConvUnit conv2, IntConvUnit? downsample, IntAddUnit add) : IIntBlock
{
    public IntConvUnit Conv1 { get; } = conv1;
    public IntConvUnit Conv2 { get; } = conv2;
    public IntConvUnit? Downsample { get; } = downsample;
    public IntAddUnit Add { get; } = add;

    public CodeTensor Forward(CodeTensor x, IntForwardContext ctx)
    {
        var y = Conv2.Forward(Conv1.Forward(x, ctx), ctx);
        return Add.Forward(y, Downsample?.Forward(x, ctx) ?? x, ctx);
    }

    public IEnumerable<IIntUnit> Layers => Downsample is null ? [Conv1, Conv2, Add] : [Conv1, Conv2, Downsample, Add];
}
