using Nanoq.Autograd;

namespace Nanoq.Nn;

/// <summary>A module with one input and one output, so layers chain in a <see cref="Sequential"/>.</summary>
public abstract class Layer : Module
{
    public abstract Var Forward(Var x);
}
