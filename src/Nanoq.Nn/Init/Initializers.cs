namespace Nanoq.Nn.Init;

/// <summary>
/// Weight initializers, as torch.nn.init. fan_in = in_channels/groups · kh · kw, fan_out = out_channels · kh · kw
/// for a conv weight [out, in/groups, kh, kw] (PyTorch's <c>_calculate_fan_in_and_fan_out</c>; a linear weight
/// [out, in] has fan_in = in, fan_out = out).
/// </summary>
public static class Initializers
{
    public static (int FanIn, int FanOut) Fans(Shape w)
    {
        if (w.Rank < 2) throw new ArgumentException($"Fan in/out needs a weight of rank ≥ 2, got {w}.");
        int receptive = w.SizeOf(2, w.Rank);
        return (w[1] * receptive, w[0] * receptive);
    }

    /// <summary>N(0, std²) with std = gain / √fan, gain = √2 for ReLU (He et al. 2015).</summary>
    public static void KaimingNormal(Tensor w, Rng rng, bool fanOut = true, float gain = 1.41421356f)
    {
        var (fi, fo) = Fans(w.Shape);
        float std = gain / MathF.Sqrt(fanOut ? fo : fi);
        rng.FillNormal(w.Span, 0f, std);
    }

    /// <summary>U(−b, b) with b = gain·√(3/fan_in); PyTorch's default for Linear/Conv (a = √5) gives b = 1/√fan_in.</summary>
    public static void KaimingUniform(Tensor w, Rng rng, float gain)
    {
        var (fi, _) = Fans(w.Shape);
        float bound = gain * MathF.Sqrt(3f / fi);
        rng.FillUniform(w.Span, -bound, bound);
    }

    /// <summary>PyTorch's default layer init: weight U(±1/√fan_in), bias U(±1/√fan_in).</summary>
    public static void PyTorchDefault(Tensor w, Tensor? b, Rng rng)
    {
        var (fi, _) = Fans(w.Shape);
        float bound = 1f / MathF.Sqrt(fi);
        rng.FillUniform(w.Span, -bound, bound);
        if (b is not null) rng.FillUniform(b.Span, -bound, bound);
    }
}
