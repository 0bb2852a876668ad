using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// The RPN's loss: torchvision's <c>RegionProposalNetwork.compute_loss</c> (0.14). Over the batch's sampled anchors
/// S = P ∪ N (per image, <see cref="BalancedPositiveNegativeSampler"/> of 256 at 50%; indices global, images
/// concatenated, positives then negatives):
/// <code>
///   objectness = mean_{i ∈ S} BCEWithLogits(objectness_i, label_i)
///   box        = Σ_{i ∈ P} smoothL1_β(deltas_i − targets_i) / |S|            β = 1/9, summed over the 4 coordinates
/// </code>
/// Shapes: objectness [N·A] and deltas [N·A, 4] as <see cref="RpnHeadLayout.Concat"/> gives them; per image, labels
/// (1 / 0 / −1) and regression targets [A, 4] from <see cref="RpnTargets"/>. With no sampled anchor at all both
/// losses are 0/0 = NaN, as in torchvision. Returns the terms "objectness" and "rpn_box"; the foreground
/// count is the sampled positives.
/// </summary>
public static class RpnLoss
{
    /// <summary>The terms' names (torchvision's loss_objectness, loss_rpn_box_reg).</summary>
    public const string Objectness = "objectness", Box = "rpn_box";

    /// <summary>smooth L1's β in the RPN and box-head losses.</summary>
    public const float Beta = 1f / 9f;

    /// <summary>Samples each image's anchors with <paramref name="sampler"/> and <paramref name="rng"/>, then computes the loss.</summary>
    public static DetectorLosses Compute(Var objectness, Var deltas, IReadOnlyList<int[]> labels, IReadOnlyList<float[]> regressionTargets,
                                          BalancedPositiveNegativeSampler sampler, Rng rng)
    {
        var pos = new int[labels.Count][];
        var neg = new int[labels.Count][];
        for (int i = 0; i < labels.Count; i++) (pos[i], neg[i]) = sampler.Sample(labels[i], rng);
        return Compute(objectness, deltas, labels, regressionTargets, pos, neg);
    }

    /// <summary>The loss over given sampled anchors (per image, indices into that image's anchors).</summary>
    public static DetectorLosses Compute(Var objectness, Var deltas, IReadOnlyList<int[]> labels, IReadOnlyList<float[]> regressionTargets,
                                          IReadOnlyList<int[]> sampledPositive, IReadOnlyList<int[]> sampledNegative)
    {
        int images = labels.Count;
        if (regressionTargets.Count != images || sampledPositive.Count != images || sampledNegative.Count != images)
            throw new ArgumentException("RpnLoss: labels, regression targets and sampled indices need one entry per image.");
        var pos = new List<int>();
        var neg = new List<int>();
        var allLabels = new List<int>();
        var allTargets = new List<float>();
        int offset = 0;
        for (int i = 0; i < images; i++)
        {
            foreach (int p in sampledPositive[i]) pos.Add(offset + p);
            foreach (int q in sampledNegative[i]) neg.Add(offset + q);
            allLabels.AddRange(labels[i]);
            allTargets.AddRange(regressionTargets[i]);
            if (regressionTargets[i].Length != 4 * labels[i].Length)
                throw new ArgumentException($"RpnLoss: image {i} has {labels[i].Length} labels but {regressionTargets[i].Length / 4.0} targets.");
            offset += labels[i].Length;
        }
        if (objectness.Value.Size != offset || deltas.Value.Size != 4 * offset)
            throw new ArgumentException($"RpnLoss: {offset} anchors in the batch, objectness {objectness.Shape}, deltas {deltas.Shape}.");
        pos.Sort();
        neg.Sort();
        var sampled = pos.Concat(neg).ToArray();
        int numSampled = sampled.Length;

        var sampledLabels = new float[numSampled];
        for (int k = 0; k < numSampled; k++) sampledLabels[k] = allLabels[sampled[k]];
        var objectnessLoss = Fn.BinaryCrossEntropyWithLogits(Fn.IndexSelect(Fn.Reshape(objectness, -1), 0, sampled),
                                                             Tensor.FromArray(sampledLabels, numSampled));

        var posIdx = pos.ToArray();
        var posTargets = new float[4 * posIdx.Length];
        for (int k = 0; k < posIdx.Length; k++)
            for (int c = 0; c < 4; c++) posTargets[4 * k + c] = allTargets[4 * posIdx[k] + c];
        var boxSum = Fn.SmoothL1Loss(Fn.IndexSelect(Fn.Reshape(deltas, -1, 4), 0, posIdx), Tensor.FromArray(posTargets, posIdx.Length, 4),
                                     Beta, Reduction.Sum);
        return new DetectorLosses([(Objectness, objectnessLoss), (Box, Fn.Scale(boxSum, 1f / numSampled))], posIdx.Length);
    }
}
