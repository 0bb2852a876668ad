using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Detection;

/// <summary>
/// Faster R-CNN's box predictor: torchvision's <c>FastRCNNPredictor</c> — class logits over C = K + 1 classes (0 the
/// background) and class-specific box deltas (decoded with BoxCoder(10, 10, 5, 5), <see cref="RoiHeadTargets.BoxCoder"/>).
/// PyTorch's default Linear initialization, as torchvision. Both are <see cref="LinearUnit"/>s (cls_score, bbox_pred)
/// without activation: these are the network's last outputs, quantized before the float softmax and decoding.
/// <code>
///   x [R, D] → class logits [R, C], box deltas [R, 4C] (row r: class c's deltas at 4c..4c+3)
/// </code>
/// </summary>
public sealed class FastRcnnPredictor : Module
{
    private readonly LinearUnit _cls, _box;

    public FastRcnnPredictor(int inFeatures, int numClasses, Rng rng)
    {
        NumClasses = numClasses;
        _cls = Tap("cls_score", new LinearUnit(Child("cls_score", new Linear(inFeatures, numClasses, rng: rng)), ActivationKind.None));
        _box = Tap("bbox_pred", new LinearUnit(Child("bbox_pred", new Linear(inFeatures, 4 * numClasses, rng: rng)), ActivationKind.None));
    }

    /// <summary>C = K + 1, the background included.</summary>
    public int NumClasses { get; }

    public LinearUnit ClsScore => _cls;
    public LinearUnit BboxPred => _box;

    public (Var ClassLogits, Var BoxDeltas) Forward(Var x) => (_cls.Forward(x), _box.Forward(x));
}
