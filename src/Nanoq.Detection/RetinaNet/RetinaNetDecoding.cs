namespace Nanoq.Detection;

/// <summary>
/// RetinaNet's inference postprocessing on plain float heads, shared by the float / fake-quant detector
/// (<see cref="RetinaNet.Postprocess"/>) and the integer one (whose head codes are dequantized first): per image and
/// level, scores σ(logit) above the threshold, the top-k of them, decoded against their anchors and clipped to the
/// image's own (unpadded) size; then class-wise NMS over all levels and the best
/// <see cref="RetinaNetConfig.MaxDetections"/>. Boxes thinner than <see cref="RetinaNetConfig.MinBoxSize"/> are dropped.
/// <code>
///     logits [N, A, K], deltas [N, A, 4], anchors [A, 4] (xyxy), levels in the anchor generator's order
/// </code>
/// </summary>
public static class RetinaNetDecoding
{
    public static IReadOnlyList<Detections> Detect(RetinaNetConfig config, AnchorGenerator anchorGenerator, BoxCoder coder,
        ReadOnlySpan<float> anchors, ReadOnlySpan<float> logits, ReadOnlySpan<float> deltas, int n, int a, int k,
        (int Height, int Width)[] gridSizes, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        if (logits.Length != (long)n * a * k || deltas.Length != (long)n * a * 4 || anchors.Length != (long)a * 4)
            throw new ArgumentException($"RetinaNetDecoding: {logits.Length} logits, {deltas.Length} deltas and {anchors.Length / 4} anchors do not fit N={n}, A={a}, K={k}.");
        if (imageSizes.Count != n) throw new ArgumentException($"RetinaNetDecoding: {imageSizes.Count} image sizes for a batch of {n}.");
        var levelStarts = new int[gridSizes.Length + 1];
        for (int l = 0; l < gridSizes.Length; l++)
            levelStarts[l + 1] = levelStarts[l] + gridSizes[l].Height * gridSizes[l].Width * anchorGenerator.NumAnchorsPerLocation(l);
        var results = new Detections[n];
        var scores = TensorPool.Rent(a * k); // σ of one image's logits: tens of thousands of floats a call
        try
        {
            for (int i = 0; i < n; i++)
            {
                var boxes = new List<float>();
                var keptScores = new List<float>();
                var labels = new List<int>();
                var img = logits.Slice(i * a * k, a * k);
                for (int j = 0; j < img.Length; j++) scores[j] = 1f / (1f + MathF.Exp(-img[j]));
                var box = new float[4];
                for (int l = 0; l < gridSizes.Length; l++)
                {
                    int start = levelStarts[l] * k, len = (levelStarts[l + 1] - levelStarts[l]) * k;
                    var top = TopK.Select(scores.AsSpan(start, len), config.TopKPerLevel, config.ScoreThreshold);
                    foreach (int t in top)
                    {
                        int flat = start + t, anchor = flat / k;
                        coder.DecodeSingle(deltas.Slice((i * a + anchor) * 4, 4), anchors.Slice(anchor * 4, 4), box);
                        var (h, w) = imageSizes[i];
                        float x1 = Math.Clamp(box[0], 0, w), y1 = Math.Clamp(box[1], 0, h);
                        float x2 = Math.Clamp(box[2], 0, w), y2 = Math.Clamp(box[3], 0, h);
                        if (x2 - x1 < config.MinBoxSize || y2 - y1 < config.MinBoxSize) continue;
                        boxes.AddRange([x1, y1, x2, y2]);
                        keptScores.Add(scores[flat]);
                        labels.Add(flat % k);
                    }
                }
                var bArr = boxes.ToArray();
                var sArr = keptScores.ToArray();
                var lArr = labels.ToArray();
                var keep = NonMaxSuppression.BatchedNms(bArr, sArr, lArr, config.NmsThreshold, config.MaxDetections);
                var outBoxes = new float[keep.Length * 4];
                for (int j = 0; j < keep.Length; j++) bArr.AsSpan(keep[j] * 4, 4).CopyTo(outBoxes.AsSpan(j * 4));
                results[i] = new Detections(outBoxes, keep.Select(j => sArr[j]).ToArray(), keep.Select(j => lArr[j]).ToArray());
            }
        }
        finally { TensorPool.Return(scores); }
        return results;
    }
}
