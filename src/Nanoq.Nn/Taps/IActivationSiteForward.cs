using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>A swappable forward for an <see cref="ActivationSite"/>.</summary>
public interface IActivationSiteForward
{
    Var Forward(Var x);
}
