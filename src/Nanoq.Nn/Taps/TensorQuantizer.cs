using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>
/// A module that maps a tensor to its quantized image — what a <see cref="Tap"/> holds. Nn knows only this much; the
/// quantizers themselves (fake quantization, observers, learned steps) live in Nanoq.Quant.
/// </summary>
public abstract class TensorQuantizer : Module
{
    public abstract Var Forward(Var x);
}
