using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Detection;

/// <summary>
/// Faster R-CNN's box head: torchvision's <c>TwoMLPHead</c> — the flattened pooled RoI features through two fully
/// connected layers with ReLU. Linear layers keep PyTorch's default initialization, as torchvision's. Each is a
/// <see cref="LinearUnit"/> (fc6, fc7), so quantization covers them.
/// <code>
///   x [R, C·P·P] → relu(fc6(x)) [R, D] → relu(fc7(·)) [R, D]
/// </code>
/// </summary>
public sealed class TwoMlpHead : Module
{
    private readonly LinearUnit _fc6, _fc7;

    public TwoMlpHead(int inFeatures, int representationSize, Rng rng)
    {
        _fc6 = Tap("fc6", new LinearUnit(Child("fc6", new Linear(inFeatures, representationSize, rng: rng)), ActivationKind.Relu));
        _fc7 = Tap("fc7", new LinearUnit(Child("fc7", new Linear(representationSize, representationSize, rng: rng)), ActivationKind.Relu));
    }

    public LinearUnit Fc6 => _fc6;
    public LinearUnit Fc7 => _fc7;

    public Var Forward(Var x) => _fc7.Forward(_fc6.Forward(x));
}
