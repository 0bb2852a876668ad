using Nanoq.Detection.Integer;
using Nanoq.Quant;
using Nanoq.Quant.Kernels;

namespace Nanoq.Detection;

/// <summary>
/// The float edge into the integer runtime (float allowed: outside <c>Nanoq.Detection.Integer</c>): the normalized
/// image is quantized once, by the fake-quant model's "input" quantizer, with the very kernel fake quantization uses —
/// <code>
///     x_q = clamp(round(x · (1/Δ)) + z, 0, 2^k − 1)
/// </code>
/// — so the integer model starts from the codes the fake-quant model computed with. Everything after this runs on codes.
/// </summary>
public sealed class ImageQuantizer(QParams input)
{
    public QParams QParams { get; } = input;

    /// <summary>images [N, C, H, W] → codes; <paramref name="buffer"/> is used when it has exactly the right length.</summary>
    public CodeTensor Quantize(Tensor images, byte[]? buffer = null)
    {
        if (images.Rank != 4) throw new ArgumentException($"ImageQuantizer: images must be [N, C, H, W], got {images.Shape}.");
        var codes = buffer is not null && buffer.Length == images.Size ? buffer : new byte[images.Size];
        FakeQuantKernels.Quantize(images.Span, QParams.Scale, QParams.ZeroPoint, QParams.QMax, codes);
        return new CodeTensor(codes, images.Shape[0], images.Shape[1], images.Shape[2], images.Shape[3], QParams.ZeroPoint, QParams.Bits);
    }
}
