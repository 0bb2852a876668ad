using Nanoq.Autograd;
using Nanoq.Nn.Init;

namespace Nanoq.Nn.Layers;

/// <summary>
/// 2-D convolution, NCHW: x [n, in, h, w] → y [n, out, oh, ow], weight [out, in/groups, k, k], optional bias [out];
/// oh = ⌊(h + 2·pad − dilation·(k − 1) − 1) / stride⌋ + 1. Initialized as PyTorch's default (U(±1/√fan_in));
/// backbones re-initialize with Kaiming normal as torchvision does.
/// </summary>
public sealed class Conv2d : Layer
{
    public Conv2d(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1,
                  int groups = 1, bool bias = true, Rng? rng = null)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: channels in={inChannels}, out={outChannels} must both divide by groups={groups}.");
        InChannels = inChannels; OutChannels = outChannels; Kernel = kernel;
        Stride = stride; Padding = padding; Dilation = dilation; Groups = groups;
        Weight = Parameter("weight", Tensor.Zeros(outChannels, inChannels / groups, kernel, kernel));
        Bias = bias ? Parameter("bias", Tensor.Zeros(outChannels)) : null;
        Initializers.PyTorchDefault(Weight.Value, Bias?.Value, rng ?? new Rng(0));
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public Var Weight { get; }
    public Var? Bias { get; }

    public override Var Forward(Var x) => Fn.Conv2d(x, Weight, Bias, Stride, Padding, Dilation, Groups);
}
