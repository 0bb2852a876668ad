using Nanoq.Autograd;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Nn.Backbones;

/// <summary>
/// MobileNetV2 block (Sandler et al. 2018): [1×1 expand → ReLU6] → 3×3 depthwise → ReLU6 → 1×1 linear projection,
/// plus the input when stride is 1 and channels match. torchvision's layout: a Sequential named <c>conv</c> holding
/// [expand,] depthwise, projection conv, projection BN — the last two run as one <see cref="ConvUnit"/>.
/// </summary>
public sealed class InvertedResidual : Layer
{
    private readonly ConvNormActivation[] _pre;
    private readonly ConvUnit _project;
    private readonly AddUnit? _add;

    public InvertedResidual(int inC, int outC, int stride, int expandRatio, Rng rng)
    {
        int hidden = inC * expandRatio;
        var conv = new Sequential();
        var pre = new List<ConvNormActivation>();
        if (expandRatio != 1) pre.Add(new ConvNormActivation(inC, hidden, 1, 1, 1, ActivationKind.Relu6, rng));
        pre.Add(new ConvNormActivation(hidden, hidden, 3, stride, hidden, ActivationKind.Relu6, rng));
        foreach (var p in pre) conv.Add(p);
        var projConv = new Conv2d(hidden, outC, 1, 1, 0, bias: false, rng: rng);
        var projBn = new BatchNorm2d(outC);
        conv.Add(projConv);
        conv.Add(projBn);
        Child("conv", conv);
        _pre = pre.ToArray();
        _project = Tap("project", new ConvUnit(projConv, projBn, ActivationKind.None));
        if (stride == 1 && inC == outC) _add = Tap("add", new AddUnit(ActivationKind.None));
    }

    public bool UseResidual => _add is not null;

    /// <summary>[expand,] depthwise — the ReLU6 units before the projection (read-only, for conversion).</summary>
    public IReadOnlyList<ConvNormActivation> Pre => _pre;

    /// <summary>The linear 1×1 projection (conv + BN, no activation).</summary>
    public ConvUnit Project => _project;

    /// <summary>input + projection (operands in that order), or null without the residual.</summary>
    public AddUnit? Add => _add;

    public override Var Forward(Var x)
    {
        var y = x;
        foreach (var p in _pre) y = p.Forward(y);
        y = _project.Forward(y);
        return _add is null ? y : _add.Forward(x, y);
    }
}
