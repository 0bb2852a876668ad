using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>A swappable computation of a <see cref="ConvUnit"/> up to and including its activation (not its output quantizer).</summary>
public interface IConvUnitForward
{
    Var Forward(ConvUnit unit, Var x);
}
