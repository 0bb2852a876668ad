using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// A detector's raw outputs — the tensors its network ends in, before any float postprocessing (for RetinaNet the class
/// and box maps of each pyramid level) — and the padded input size they belong to. <paramref name="State"/> is what a
/// detector computed in float between network stages and needs again in its loss or postprocess (Faster R-CNN's
/// proposals, <see cref="FasterRcnnState"/>); null for a one-stage detector. It is not a network output: the integer
/// program neither produces nor quantizes it.
/// </summary>
public sealed record DetectorOutput(IReadOnlyList<Var> Outputs, int ImageHeight, int ImageWidth, object? State = null);
