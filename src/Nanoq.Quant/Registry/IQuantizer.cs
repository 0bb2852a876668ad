namespace Nanoq.Quant;

/// <summary>
/// A quantizer that can be named and inspected. Its <see cref="Name"/> is its place in the model — the owning
/// module's dotted path plus a local role, e.g. <c>backbone.layer2.0.conv1.weight</c> or
/// <c>backbone.layer2.0.add.out</c> — and is assigned by <see cref="QuantRegistry.Collect"/>.
/// </summary>
public interface IQuantizer
{
    string Name { get; set; }

    QuantizerRole Role { get; }

    /// <summary>A snapshot of the current parameters (for inspection and for integer conversion).</summary>
    QuantizerInfo Describe();
}
