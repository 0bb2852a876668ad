namespace Nanoq.Coco.Data;

/// <summary>
/// Epochs of padded batches from a <see cref="CocoFolder"/>. The order (shuffled or not) and every flip are drawn
/// from (seed, epoch) before any image is decoded, so a run is reproducible and decoding can run in parallel
/// without changing the result.
/// </summary>
public sealed class CocoDataLoader(
    CocoFolder folder,
    TransformOptions options,
    int batchSize,
    bool shuffle,
    ulong seed,
    int sizeDivisibility = 32,
    bool dropLast = false)
{
    public CocoFolder Folder { get; } = folder;

    public int BatchesPerEpoch => dropLast ? Folder.Count / batchSize : (Folder.Count + batchSize - 1) / batchSize;

    /// <summary>The batches of epoch <paramref name="epoch"/>, from batch <paramref name="startBatch"/> on (a resumed run
    /// skips what it already did without decoding it).</summary>
    public IEnumerable<ImageBatch> Epoch(int epoch, int startBatch = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var rng = Rng.Derive(seed, (ulong)epoch);
        var order = Enumerable.Range(0, Folder.Count).ToArray();
        if (shuffle) rng.Shuffle(order);
        var flips = new bool[order.Length];
        for (int i = 0; i < flips.Length; i++) flips[i] = options.FlipProbability > 0 && rng.Bernoulli(options.FlipProbability);

        for (int b = startBatch; b < BatchesPerEpoch; b++)
        {
            int start = b * batchSize, n = Math.Min(batchSize, order.Length - start);
            var samples = new DetectionSample[n];
            ParallelWork.For(n, i => samples[i] = Folder.Load(order[start + i], options, flips[start + i]));
            yield return Batcher.Collate(samples, sizeDivisibility);
        }
    }
}
