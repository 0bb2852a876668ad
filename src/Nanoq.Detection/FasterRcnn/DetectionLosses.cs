using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>A two-part detection loss (RPN: objectness + box; Fast R-CNN: classification + box), each already normalized.</summary>
public sealed record DetectionLosses(Var Classification, Var BoxRegression)
{
    public Var Total => Fn.Add(Classification, BoxRegression);
}
