using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Tests.Modules;

/// <summary>One conv unit (children "conv", "bn", tap "unit") with a folded computation and the given quantizers installed by hand.</summary>
internal sealed class OneConv : Module
{
    public OneConv(Conv2d conv, BatchNorm2d? bn, ActivationKind activation, FakeQuantizer weights, FakeQuantizer? output,
                   BnFoldMode mode = BnFoldMode.Frozen, int? freezeBnAtStep = null)
    {
        Child("conv", conv);
        if (bn is not null) Child("bn", bn);
        Unit = Tap("unit", new ConvUnit(conv, bn, activation));
        Unit.SetWeightQuantizer(weights);
        Unit.SetOutputQuantizer(output);
        Fold = new FoldedConv(mode, freezeBnAtStep);
        Unit.Implementation = Fold;
    }

    public ConvUnit Unit { get; }
    public FoldedConv Fold { get; }

    public Var Forward(Var x) => Unit.Forward(x);

    /// <summary>In evaluation mode, after one forward (which gives the weight quantizer its grid): ready to convert.</summary>
    public static OneConv Converted(Conv2d conv, BatchNorm2d? bn, ActivationKind activation, FakeQuantizer weights, FakeQuantizer? output)
    {
        var l = new OneConv(conv, bn, activation, weights, output);
        l.Eval();
        using (GradMode.NoGrad()) l.Forward(new Var(Tensor.Zeros(1, conv.InChannels, conv.Kernel, conv.Kernel)));
        return l;
    }
}
