using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// The raw heads: class logits [N, A, K] and box deltas [N, A, 4] over all A anchors of the pyramid, the grid size
/// of each level, and the (padded) input size they belong to.
/// </summary>
public sealed record RetinaNetOutput(Var Logits, Var Deltas, (int Height, int Width)[] GridSizes, int ImageHeight, int ImageWidth);
