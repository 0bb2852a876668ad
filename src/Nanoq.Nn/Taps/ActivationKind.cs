namespace Nanoq.Nn.Taps;

/// <summary>The element-wise function that closes a conv unit or an add: none, ReLU (clamp below at 0) or ReLU6.</summary>
public enum ActivationKind
{
    None,
    Relu,
    Relu6,
}
