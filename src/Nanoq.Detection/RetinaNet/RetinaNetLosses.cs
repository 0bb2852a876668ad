using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>The two training losses, each already normalized (per image by its foreground count, then over the batch).</summary>
public sealed record RetinaNetLosses(Var Classification, Var BoxRegression, int Foreground)
{
    public Var Total => Fn.Add(Classification, BoxRegression);
}
