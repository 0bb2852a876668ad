using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// What <see cref="FasterRcnn.Forward"/> computes in float between its network stages and hands on in
/// <see cref="DetectorOutput.State"/>: each image's RPN <see cref="Proposals"/> (flat [P_i·4], input-image pixels, best
/// first; no gradient, as torchvision detaches them), the number of RPN levels <see cref="NumLevels"/> (so the raw
/// outputs can be split), and in training mode the pooled pyramid levels <see cref="Features"/> (P2–P5), which the loss
/// pools its sampled RoIs from. Features is null in evaluation mode, where the box head already ran on the proposals.
/// </summary>
public sealed record FasterRcnnState(IReadOnlyList<float[]> Proposals, int NumLevels, IReadOnlyList<Var>? Features);
