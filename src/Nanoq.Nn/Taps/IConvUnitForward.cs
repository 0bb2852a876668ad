using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>A swappable forward for a <see cref="ConvUnit"/>.</summary>
public interface IConvUnitForward
{
    Var Forward(ConvUnit unit, Var x);
}
