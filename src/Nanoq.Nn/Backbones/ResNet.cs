using Nanoq.Autograd;
using Nanoq.Nn.Init;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Nn.Backbones;

/// <summary>
/// ResNet-18/34/50 (He et al. 2016) with torchvision's parameter layout (<c>conv1, bn1, layer1.0.conv1, …, fc</c>),
/// so a torchvision state dict loads one to one. <paramref name="width"/> is the channel count of the first stage
/// (64 in the paper-sized model); a smaller width gives a CPU-sized network with the same code.
/// Stages C2–C5 are the outputs of layer1–layer4 (strides 4, 8, 16, 32).
/// </summary>
public sealed class ResNet : Layer, IBackbone
{
    private readonly Sequential[] _layers;
    private readonly ConvUnit _stem;

    public static ResNet ResNet18(int numClasses = 1000, int width = 64, ulong seed = 0) => new(false, [2, 2, 2, 2], numClasses, width, seed);
    public static ResNet ResNet34(int numClasses = 1000, int width = 64, ulong seed = 0) => new(false, [3, 4, 6, 3], numClasses, width, seed);
    public static ResNet ResNet50(int numClasses = 1000, int width = 64, ulong seed = 0) => new(true, [3, 4, 6, 3], numClasses, width, seed);

    /// <param name="numClasses">classes of the fc layer; 0 builds no avgpool/fc (a detection backbone).</param>
    public ResNet(bool bottleneck, int[] blocks, int numClasses, int width, ulong seed)
    {
        var rng = new Rng(seed);
        int expansion = bottleneck ? Bottleneck.Expansion : BasicBlock.Expansion;
        Conv1 = Child("conv1", new Conv2d(3, width, 7, 2, 3, bias: false, rng: rng));
        Bn1 = Child("bn1", new BatchNorm2d(width));
        _stem = Tap("conv1", new ConvUnit(Conv1, Bn1, ActivationKind.Relu));
        MaxPool = new MaxPool2d(3, 2, 1);
        int inC = width;
        _layers = new Sequential[4];
        StageChannels = new int[4];
        for (int s = 0; s < 4; s++)
        {
            int planes = width << s;
            var layer = new Sequential();
            for (int b = 0; b < blocks[s]; b++)
            {
                int stride = b == 0 && s > 0 ? 2 : 1;
                layer.Add(bottleneck ? new Bottleneck(inC, planes, stride, rng) : new BasicBlock(inC, planes, stride, rng));
                inC = planes * expansion;
            }
            _layers[s] = Child($"layer{s + 1}", layer);
            StageChannels[s] = inC;
        }
        if (numClasses > 0) Fc = Child("fc", new Linear(inC, numClasses, rng: rng));

        // torchvision: Kaiming normal (fan_out, ReLU gain) for convs; BN γ = 1, β = 0 (already).
        foreach (var (_, m) in NamedModules())
            if (m is Conv2d c) Initializers.KaimingNormal(c.Weight.Value, rng, fanOut: true);
    }

    public Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public MaxPool2d MaxPool { get; }
    public Linear? Fc { get; }
    public int[] StageChannels { get; }

    /// <summary>conv1 → bn1 → ReLU, before the max pool (read-only, for conversion to the integer runtime).</summary>
    public ConvUnit Stem => _stem;

    /// <summary>layer1 … layer4, each a Sequential of <see cref="BasicBlock"/> or <see cref="Bottleneck"/>.</summary>
    public IReadOnlyList<Sequential> Layers => _layers;

    public Var[] Stages(Var x)
    {
        x = MaxPool.Forward(_stem.Forward(x)); // max pooling acts on codes directly: no quantizer of its own
        var c = new Var[4];
        for (int s = 0; s < 4; s++) c[s] = x = _layers[s].Forward(x);
        return c;
    }

    /// <summary>Class logits [n, numClasses] (needs numClasses &gt; 0).</summary>
    public override Var Forward(Var x)
    {
        if (Fc is null) throw new InvalidOperationException("This ResNet was built without a classifier (numClasses = 0); use Stages().");
        return Fc.Forward(Fn.GlobalAvgPool(Stages(x)[3]));
    }
}
