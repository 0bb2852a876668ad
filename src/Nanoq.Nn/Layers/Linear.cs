using Nanoq.Autograd;
using Nanoq.Nn.Init;

namespace Nanoq.Nn.Layers;

/// <summary>y = x Wᵀ + b; x [n, in], weight [out, in] (PyTorch's layout), bias [out].</summary>
public sealed class Linear : Layer
{
    public Linear(int inFeatures, int outFeatures, bool bias = true, Rng? rng = null)
    {
        Weight = Parameter("weight", Tensor.Zeros(outFeatures, inFeatures));
        Bias = bias ? Parameter("bias", Tensor.Zeros(outFeatures)) : null;
        Initializers.PyTorchDefault(Weight.Value, Bias?.Value, rng ?? new Rng(0));
    }

    public Var Weight { get; }
    public Var? Bias { get; }

    public override Var Forward(Var x) => Fn.Linear(x, Weight, Bias);
}
