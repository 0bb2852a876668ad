using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// torchvision's <c>concat_box_prediction_layers</c> for the RPN: per-level head outputs to one row per anchor, in
/// <see cref="AnchorGenerator"/>'s order (level, then y, x, then the A anchors of a location).
/// <code>
///   objectness[l]: [N, A, H_l, W_l]   → permute to [N, H_l, W_l, A], concatenate levels → [N · Σ H_l W_l A]
///   deltas[l]:     [N, 4A, H_l, W_l]  → view [N, A, 4, H_l, W_l] → [N, H_l, W_l, A, 4] → [N · Σ H_l W_l A, 4]
/// </code>
/// Row r = i · ΣA + a is anchor a of image i. Differentiable (views, permutes and a concatenation).
/// </summary>
public static class RpnHeadLayout
{
    public static (Var Objectness, Var Deltas) Concat(IReadOnlyList<Var> objectness, IReadOnlyList<Var> deltas)
    {
        if (objectness.Count == 0 || objectness.Count != deltas.Count)
            throw new ArgumentException($"RpnHeadLayout: {objectness.Count} objectness maps and {deltas.Count} delta maps.");
        int n = objectness[0].Shape[0];
        var obj = new List<Var>();
        var del = new List<Var>();
        for (int l = 0; l < objectness.Count; l++)
        {
            var o = objectness[l];
            var d = deltas[l];
            if (o.Shape.Rank != 4 || d.Shape.Rank != 4 || o.Shape[0] != n || d.Shape[0] != n || d.Shape[1] != 4 * o.Shape[1]
                || d.Shape[2] != o.Shape[2] || d.Shape[3] != o.Shape[3])
                throw new ArgumentException($"RpnHeadLayout: level {l} has objectness {o.Shape} and deltas {d.Shape}; expected [N, A, H, W] and [N, 4A, H, W].");
            int a = o.Shape[1], h = o.Shape[2], w = o.Shape[3];
            obj.Add(Fn.Reshape(Fn.Permute(o, 0, 2, 3, 1), n, h * w * a));
            del.Add(Fn.Reshape(Fn.Permute(Fn.Reshape(d, n, a, 4, h, w), 0, 3, 4, 1, 2), n, h * w * a, 4));
        }
        var objCat = obj.Count == 1 ? obj[0] : Fn.Concat(obj, 1);
        var delCat = del.Count == 1 ? del[0] : Fn.Concat(del, 1);
        return (Fn.Reshape(objCat, -1), Fn.Reshape(delCat, -1, 4));
    }
}
