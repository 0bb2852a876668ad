namespace Nanoq.Quant;

/// <summary>
/// A module that owns quantizers. Each comes with a local name ("weight", "out"); <see cref="QuantRegistry.Collect"/>
/// prefixes it with the module's path in the model.
/// </summary>
public interface IHasQuantizers
{
    IEnumerable<(string LocalName, IQuantizer Quantizer)> Quantizers { get; }
}
