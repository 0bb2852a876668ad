using Nanoq.Autograd;

namespace Nanoq.Nn.Layers;

/// <summary>[n, …] → [n, product of the rest] (a view).</summary>
public sealed class Flatten : Layer
{
    public override Var Forward(Var x) => Fn.Reshape(x, x.Shape[0], -1);
}
