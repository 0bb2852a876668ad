using Nanoq.Autograd;

namespace Nanoq.Nn.Layers;

/// <summary>Max pooling with a square window (padding counts as −∞, as PyTorch).</summary>
public sealed class MaxPool2d(int kernel, int stride, int padding = 0) : Layer
{
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride;
    public int Padding { get; } = padding;

    public override Var Forward(Var x) => Fn.MaxPool2d(x, Kernel, Stride, Padding);
}
