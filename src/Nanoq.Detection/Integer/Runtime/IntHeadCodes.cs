namespace Nanoq.Detection.Integer;

/// <summary>
/// The integer heads, still codes: class logits [N, A, K] and box deltas [N, A, 4] over all A anchors (levels
/// concatenated, location-major then anchor, as <see cref="RetinaNetHead"/>), each on its predictor's output grid
/// (zero points here, scales at the float edge), plus the grid of each level and the padded input size.
/// </summary>
public sealed record IntHeadCodes(
    byte[] Logits, int LogitsZeroPoint, byte[] Deltas, int DeltasZeroPoint,
    int Batch, int Anchors, int Classes, (int Height, int Width)[] GridSizes, int ImageHeight, int ImageWidth);
