using Nanoq.Nn.Taps;
using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Tests.Modules;

/// <summary>
/// A small network with the shapes of a residual block, written once in float with taps — input site → conv+BN+ReLU →
/// conv+BN → residual add — and quantized by installing a recipe (<see cref="ModelQuantizer.Install"/>). BN statistics
/// and affine parameters are random, as after training.
/// </summary>
internal sealed class TinyNet : Layer
{
    public TinyNet(QuantRecipe? recipe, ulong seed = 1, bool withUnusedQuantizer = false)
    {
        var rng = new Rng(seed);
        var conv1 = Child("conv1", new Conv2d(3, 4, 3, padding: 1, rng: rng));
        var bn1 = Child("bn1", RandomBn(4, rng));
        var conv2 = Child("conv2", new Conv2d(4, 3, 3, padding: 1, bias: false, rng: rng));
        var bn2 = Child("bn2", RandomBn(3, rng));
        Input = Tap("input", new ActivationSite());
        Conv1 = Tap("conv1", new ConvUnit(conv1, bn1, ActivationKind.Relu));
        Conv2 = Tap("conv2", new ConvUnit(conv2, bn2, ActivationKind.None));
        Add = Tap("add", new AddUnit(ActivationKind.None));
        if (withUnusedQuantizer) Tap("unused", new ActivationSite());
        if (recipe is not null) Registry = ModelQuantizer.Install(this, recipe);
    }

    public ActivationSite Input { get; }
    public ConvUnit Conv1 { get; }
    public ConvUnit Conv2 { get; }
    public AddUnit Add { get; }
    public QuantRegistry? Registry { get; }

    /// <summary>The output quantizer of a tap, as the affine activation quantizer FQN installs.</summary>
    public static ActQuantizer Act(Tap t) => (ActQuantizer)t.OutputQuantizer!;

    public static BatchNorm2d RandomBn(int c, Rng rng)
    {
        var bn = new BatchNorm2d(c);
        rng.FillUniform(bn.Weight.Value.Span, 0.5f, 1.5f);
        rng.FillNormal(bn.Bias.Value.Span, 0f, 0.3f);
        rng.FillNormal(bn.RunningMean.Span, 0f, 0.5f);
        rng.FillUniform(bn.RunningVar.Span, 0.5f, 2f);
        return bn;
    }

    public override Var Forward(Var x)
    {
        x = Input.Forward(x);
        var y = Conv2.Forward(Conv1.Forward(x));
        return Add.Forward(x, y);
    }

    /// <summary>The same network in plain float: conv → BN (eval) → ReLU → conv → BN (eval) → + x.</summary>
    public Var FloatForward(Var x, out Var conv1Out)
    {
        conv1Out = Fn.Relu(Conv1.Bn!.Forward(Conv1.Conv.Forward(x)));
        return Fn.Add(x, Conv2.Bn!.Forward(Conv2.Conv.Forward(conv1Out)));
    }
}
