namespace Nanoq.Quant;

/// <summary>What a quantizer quantizes.</summary>
public enum QuantizerRole
{
    /// <summary>A layer's (folded) weights, ranges from the weights themselves every step (eq. 9–10).</summary>
    Weight,

    /// <summary>An activation (conv output, residual add, upsample, the input image…), range from an observer (P or EMA).</summary>
    Activation,
}
