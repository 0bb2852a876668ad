using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// A detector's raw outputs — the tensors its network ends in, before any float postprocessing (for RetinaNet the class
/// and box maps of each pyramid level) — and the padded input size they belong to.
/// </summary>
public sealed record DetectorOutput(IReadOnlyList<Var> Outputs, int ImageHeight, int ImageWidth);
