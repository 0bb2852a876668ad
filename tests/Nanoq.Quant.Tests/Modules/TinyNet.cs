using Nanoq.Nn.Taps;
using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Quant;
using Nanoq.Quant.Modules;

namespace Nanoq.Tests.Modules;

/// <summary>
/// A small quantized network with the shapes of a residual block: input quantizer → conv+BN+ReLU → conv+BN →
/// residual add → add quantizer. BN statistics and affine parameters are random, as after training.
/// </summary>
internal sealed class TinyNet : Layer
{
    public TinyNet(QuantRecipe recipe, ulong seed = 1, bool withUnusedQuantizer = false)
    {
        var rng = new Rng(seed);
        Input = Child("input", recipe.CreateActQuantizer());
        Conv1 = Child("conv1", recipe.Wrap(new Conv2d(3, 4, 3, padding: 1, rng: rng), RandomBn(4, rng), ActivationKind.Relu));
        Conv2 = Child("conv2", recipe.Wrap(new Conv2d(4, 3, 3, padding: 1, bias: false, rng: rng), RandomBn(3, rng), ActivationKind.None));
        Add = Child("add", recipe.CreateActQuantizer());
        if (withUnusedQuantizer) Child("unused", recipe.CreateActQuantizer());
    }

    public ActQuantizer Input { get; }
    public QConvBn Conv1 { get; }
    public QConvBn Conv2 { get; }
    public ActQuantizer Add { get; }

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
        return Add.Forward(Fn.Add(x, y));
    }

    /// <summary>The same network in plain float: conv → BN (eval) → ReLU → conv → BN (eval) → + x.</summary>
    public Var FloatForward(Var x, out Var conv1Out)
    {
        conv1Out = Fn.Relu(Conv1.Bn!.Forward(Conv1.Conv.Forward(x)));
        return Fn.Add(x, Conv2.Bn!.Forward(Conv2.Conv.Forward(conv1Out)));
    }
}
