using System.Collections.Concurrent;

namespace Nanoq.Coco.Data;

/// <summary>
/// Epochs of padded batches from a <see cref="CocoFolder"/>. The order (shuffled or not) and every flip are drawn
/// from (seed, epoch) before any image is decoded, so a run is reproducible and decoding can run in parallel
/// without changing the result.
/// <para>
/// A bad image (unreadable, corrupt, forged, or not the size its json entry states) ends the epoch with a
/// <see cref="CocoFormatException"/> naming the file, the image id and the json, unless <see cref="BadImages"/> is
/// <see cref="BadImagePolicy.Skip"/>: then it is dropped from its batch (a batch can come out smaller, and a batch whose
/// images are all bad is not yielded), reported once through <see cref="OnBadImage"/> and counted. The draws of the
/// order and the flips do not depend on which images turn out bad, so the good images' batches stay reproducible.
/// </para>
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
    // Index in the folder → the error it gave; filled from the decoding threads.
    private readonly ConcurrentDictionary<int, CocoFormatException> _bad = new();

    public CocoFolder Folder { get; } = folder;

    /// <summary>Throw (default) or skip bad images; see <see cref="BadImagePolicy"/>.</summary>
    public BadImagePolicy BadImages { get; init; } = BadImagePolicy.Throw;

    /// <summary>
    /// Called once for each bad image skipped under <see cref="BadImagePolicy.Skip"/>, on the thread that enumerates the
    /// epoch, in index order within a batch: a command logs it (<c>ex.Message</c> is one line naming file, id and json).
    /// </summary>
    public Action<CocoFormatException>? OnBadImage { get; init; }

    /// <summary>How many distinct images have been skipped so far.</summary>
    public int BadImageCount => _bad.Count;

    /// <summary>The errors of the skipped images, by index in the folder.</summary>
    public IReadOnlyList<CocoFormatException> BadImageErrors => _bad.OrderBy(kv => kv.Key).Select(kv => kv.Value).ToArray();

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
            var samples = new DetectionSample?[n];
            if (BadImages == BadImagePolicy.Throw)
            {
                Kernels.WorkSplit.Each(n, i => samples[i] = Folder.Load(order[start + i], options, flips[start + i]));
                yield return Batcher.Collate(samples!, sizeDivisibility);
                continue;
            }
            var fresh = new CocoFormatException?[n];
            Kernels.WorkSplit.Each(n, i =>
            {
                int index = order[start + i];
                if (_bad.ContainsKey(index)) return;
                samples[i] = Folder.TryLoad(index, options, flips[start + i], out var error);
                if (error is not null && _bad.TryAdd(index, error)) fresh[i] = error;
            });
            foreach (var error in fresh)
                if (error is not null) OnBadImage?.Invoke(error);
            var good = samples.Where(s => s is not null).ToArray();
            if (good.Length > 0) yield return Batcher.Collate(good!, sizeDivisibility);
        }
    }
}
