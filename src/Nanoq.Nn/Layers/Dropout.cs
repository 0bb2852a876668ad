using Nanoq.Autograd;

namespace Nanoq.Nn.Layers;

/// <summary>
/// Inverted dropout: in training, each element is zeroed with probability p and the rest scaled by 1/(1 − p);
/// in eval mode the identity. Draws come from the layer's own seeded <see cref="Rng"/>.
/// </summary>
public sealed class Dropout(float p, Rng? rng = null) : Layer
{
    private readonly Rng _rng = rng ?? new Rng(0);

    public float P { get; } = p is >= 0f and < 1f ? p : throw new ArgumentOutOfRangeException(nameof(p), $"Dropout probability {p} must be in [0, 1).");

    public override Var Forward(Var x)
    {
        if (!Training || P == 0f) return x;
        var mask = Tensor.Empty(x.Shape);
        var m = mask.Span;
        float keep = 1f / (1f - P);
        for (int i = 0; i < m.Length; i++) m[i] = _rng.NextFloat() < P ? 0f : keep;
        return Fn.Mul(x, new Var(mask));
    }
}
