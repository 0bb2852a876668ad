namespace Nanoq.Coco.Data;

/// <summary>How <see cref="TransformOptions"/> resizes an image.</summary>
public enum ResizeMode
{
    /// <summary>Keep the image size.</summary>
    None,
    /// <summary>Shorter side to S, longer side capped (Detectron / torchvision).</summary>
    ShorterSide,
    /// <summary>Fixed canvas, aspect ratio kept, centred, padded.</summary>
    Letterbox,
    /// <summary>
    /// torchvision 0.14's <c>GeneralizedRCNNTransform</c> (eval mode, as torchvision's RetinaNet and Faster R-CNN
    /// see their input), with <see cref="TransformOptions.ShorterSide"/> as min_size and
    /// <see cref="TransformOptions.MaxLongerSide"/> as max_size: normalize the full-size image first
    /// ((v/255 − mean)/std in torchvision's float32 steps, <see cref="Imaging.Normalizer.ToChwAsTorchvision"/>),
    /// then resize the float planes bilinearly by scale = min(min_size/min(h, w), max_size/max(h, w)) in float32,
    /// output size floor(size · scale) (<see cref="Imaging.ResizePlan.Torchvision"/>,
    /// <see cref="Imaging.Resampler.BilinearChw"/>).
    /// The order and the float arithmetic are what make a model imported from torchvision see the same tensor as in
    /// PyTorch (bit for bit against Debian's torch 1.13 on an AVX2 CPU): resizing bytes and normalizing afterwards
    /// (<see cref="ShorterSide"/>) rounds every resized pixel to 1/255, and its sizes round to nearest rather than
    /// down. A flip is applied to the decoded image first, as torchvision's references flip in the data set before
    /// the model's transform.
    /// </summary>
    Torchvision,
}
