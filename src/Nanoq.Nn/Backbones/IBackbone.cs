using Nanoq.Autograd;

namespace Nanoq.Nn.Backbones;

/// <summary>
/// A feature extractor for FPN: <see cref="Stages"/> returns C2, C3, C4, C5 — the outputs at strides 4, 8, 16
/// and 32 of the input — whose channel counts are <see cref="StageChannels"/>.
/// </summary>
public interface IBackbone
{
    int[] StageChannels { get; }

    /// <summary>[C2, C3, C4, C5] for an input [n, 3, h, w].</summary>
    Var[] Stages(Var x);
}
