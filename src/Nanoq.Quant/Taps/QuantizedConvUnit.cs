using Nanoq.Autograd;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Modules;

namespace Nanoq.Quant.Taps;

/// <summary>
/// The forward a quantized model installs in a <see cref="ConvUnit"/>: the unit's conv and batch norm run as one
/// <see cref="QConvBn"/> (fold → weight fake-quant → conv → activation → output fake-quant). The layer follows the
/// train/eval mode of the model it sits in (read from the unit's conv, a module of that model).
/// </summary>
public sealed class QuantizedConvUnit(QConvBn layer) : IConvUnitForward, IHasQuantizers
{
    public QConvBn Layer { get; } = layer;

    public Var Forward(ConvUnit unit, Var x)
    {
        if (Layer.Training != unit.Conv.Training) Layer.Train(unit.Conv.Training);
        return Layer.Forward(x);
    }

    public IEnumerable<(string LocalName, IQuantizer Quantizer)> Quantizers => ((IHasQuantizers)Layer).Quantizers;
}
