using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// The box head's loss: torchvision's <c>fastrcnn_loss</c> (0.14). Over the batch's S sampled RoIs (images concatenated),
/// with predictor classes y ∈ [0, C) (0 background) and class-specific deltas:
/// <code>
///   classification = CE(class_logits [S, C], y)                        (mean over S)
///   box            = Σ_{i : y_i &gt; 0} smoothL1_β(box_regression[i, y_i] − targets_i) / S     β = 1/9
/// </code>
/// where box_regression [S, 4C] is read as [S, C, 4] and only the row of the true class counts. Returns the terms
/// "classification" and "box"; the foreground count is the RoIs with y &gt; 0.
/// </summary>
public static class FastRcnnLoss
{
    /// <summary>The terms' names (torchvision's loss_classifier, loss_box_reg).</summary>
    public const string Classification = "classification", Box = "box";

    public static DetectorLosses Compute(Var classLogits, Var boxRegression, int[] classes, Tensor regressionTargets)
    {
        if (classLogits.Shape.Rank != 2) throw new ArgumentException($"FastRcnnLoss: class logits must be [S, C], got {classLogits.Shape}.");
        int s = classLogits.Shape[0], c = classLogits.Shape[1];
        if (classes.Length != s || boxRegression.Value.Size != 4 * s * c || regressionTargets.Size != 4 * s)
            throw new ArgumentException($"FastRcnnLoss: {s} RoIs of {c} classes need {s} classes, [{s}, {4 * c}] deltas and [{s}, 4] targets; " +
                                        $"got {classes.Length}, {boxRegression.Shape}, {regressionTargets.Shape}.");
        var classification = Fn.CrossEntropy(classLogits, classes);
        var rows = new List<int>();
        var targets = new List<float>();
        var t = regressionTargets.Span;
        for (int i = 0; i < s; i++)
        {
            if (classes[i] <= 0) continue;
            rows.Add(i * c + classes[i]);
            for (int k = 0; k < 4; k++) targets.Add(t[4 * i + k]);
        }
        var picked = Fn.IndexSelect(Fn.Reshape(boxRegression, s * c, 4), 0, rows.ToArray());
        var box = Fn.SmoothL1Loss(picked, Tensor.FromArray(targets.ToArray(), rows.Count, 4), RpnLoss.Beta, Reduction.Sum);
        return new DetectorLosses([(Classification, classification), (Box, Fn.Scale(box, 1f / s))], rows.Count);
    }
}
