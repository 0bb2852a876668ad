using Nanoq.Autograd;

namespace Nanoq.Nn.Layers;

/// <summary>Mean over H and W: [n, c, h, w] → [n, c] (adaptive average pooling to 1×1, then flatten).</summary>
public sealed class GlobalAvgPool : Layer
{
    public override Var Forward(Var x) => Fn.GlobalAvgPool(x);
}
