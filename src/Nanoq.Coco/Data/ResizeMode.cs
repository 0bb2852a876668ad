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
}
