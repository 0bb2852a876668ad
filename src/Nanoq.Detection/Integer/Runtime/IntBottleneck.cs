namespace Nanoq.Detection.Integer;

/// <summary>
/// ResNet-50 block on codes, as <see cref="Nn.Backbones.Bottleneck"/> (v1.5, stride on the 3×3):
/// <code>
///     y = add_relu(conv3(conv2_relu(conv1_relu(x))), downsample(x) or x)
/// </code>
/// </summary>
public sealed class IntBottleneck(IntConvUnit conv1, IntConvUnit conv2, IntConvUnit conv3, IntConvUnit? downsample, IntAddUnit add) : IIntBlock
{
    public IntConvUnit Conv1 { get; } = conv1;
    public IntConvUnit Conv2 { get; } = conv2;
    public IntConvUnit Conv3 { get; } = conv3;
    public IntConvUnit? Downsample { get; } = downsample;
    public IntAddUnit Add { get; } = add;

    public CodeTensor Forward(CodeTensor x, IntForwardContext ctx)
    {
        var y = Conv3.Forward(Conv2.Forward(Conv1.Forward(x, ctx), ctx), ctx);
        return Add.Forward(y, Downsample?.Forward(x, ctx) ?? x, ctx);
    }

    public IEnumerable<IIntUnit> Layers => Downsample is null ? [Conv1, Conv2, Conv3, Add] : [Conv1, Conv2, Conv3, Downsample, Add];
}
