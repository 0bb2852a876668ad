namespace Nanoq.Detection;

/// <summary>
/// The levels a <see cref="FeaturePyramid"/> adds above P5 (torchvision's <c>extra_blocks</c> of
/// <c>ops.feature_pyramid_network</c>).
/// </summary>
public enum FpnLastLevel
{
    /// <summary>RetinaNet as in the paper: P6 = 3×3 stride-2 conv on C5, P7 = 3×3 stride-2 conv on ReLU(P6) (<c>LastLevelP6P7</c> on C5).</summary>
    P6P7,

    /// <summary>
    /// torchvision's <c>retinanet_resnet50_fpn</c> (v1): P6 = 3×3 stride-2 conv on P5, P7 on ReLU(P6) —
    /// <c>LastLevelP6P7(256, 256)</c>, whose <c>use_P5</c> holds because its in and out channels are equal.
    /// </summary>
    P6P7FromP5,

    /// <summary>Faster R-CNN: P6 = max_pool2d(P5, kernel 1, stride 2) (<c>LastLevelMaxPool</c>) — no weights, and on codes in the integer program.</summary>
    MaxPool,
}
