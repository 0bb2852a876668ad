using Nanoq.Autograd;
using Nanoq.Nn.Layers;

namespace Nanoq.Nn.Taps;

/// <summary>
/// conv → [batch norm] → [activation]: the unit that quantization treats as one layer (batch norm folds into the conv,
/// the activation becomes the requantization clamp). The conv and batch norm stay ordinary child modules of the owner,
/// so state dict names are unchanged (torchvision's <c>conv1</c>/<c>bn1</c>); the unit only references them.
/// Quantization installs a weight quantizer (child "weight_fake_quant"), an output quantizer, and an
/// <see cref="Implementation"/> that computes the quantized layer (BN folding, fake-quantized weights); without one
/// the unit computes act(bn(conv(x))) in float.
/// </summary>
public sealed class ConvUnit : WeightedTap
{
    public ConvUnit(Conv2d conv, BatchNorm2d? bn, ActivationKind activation)
    {
        Conv = conv;
        Bn = bn;
        Activation = activation;
    }

    public Conv2d Conv { get; }
    public BatchNorm2d? Bn { get; }
    public ActivationKind Activation { get; }

    /// <summary>The quantized computation (e.g. FQN's folded, fake-quantized conv) up to the activation; null for float.</summary>
    public IConvUnitForward? Implementation { get; set; }

    public override void ClearQuantization()
    {
        base.ClearQuantization();
        Implementation = null;
    }

    public Var Forward(Var x) => Traced([x], () => QuantizeOutput(Implementation?.Forward(this, x) ?? FloatForward(x)));

    /// <summary>act(bn(conv(x))) in float, batch norm in the owner's train/eval mode.</summary>
    public Var FloatForward(Var x)
    {
        var y = Conv.Forward(x);
        if (Bn is not null) y = Bn.Forward(y);
        return Activate(y, Activation);
    }

    public static Var Activate(Var y, ActivationKind kind) => kind switch
    {
        ActivationKind.None => y,
        ActivationKind.Relu => Fn.Relu(y),
        ActivationKind.Relu6 => Fn.Relu6(y),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
