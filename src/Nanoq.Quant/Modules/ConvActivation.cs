namespace Nanoq.Quant.Modules;

/// <summary>The activation fused after a quantized conv (before its output quantizer).</summary>
public enum ConvActivation
{
    None,
    Relu,
    Relu6,
}
