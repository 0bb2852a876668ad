namespace Nanoq.Coco.Data;

/// <summary>Collates samples of different sizes into one padded NCHW batch.</summary>
public static class Batcher
{
    /// <summary>
    /// Pads every image (bottom and right, with 0) to the largest height and width in the batch, each rounded up to a
    /// multiple of <paramref name="sizeDivisibility"/> (the detector's largest stride, 32 for RetinaNet's P5… use 1
    /// for none), and copies them into one buffer.
    /// </summary>
    public static ImageBatch Collate(IReadOnlyList<DetectionSample> samples, int sizeDivisibility = 32)
    {
        if (samples.Count == 0) throw new ArgumentException("a batch needs at least one sample", nameof(samples));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sizeDivisibility);
        int h = samples.Max(s => s.Height), w = samples.Max(s => s.Width);
        h = (h + sizeDivisibility - 1) / sizeDivisibility * sizeDivisibility;
        w = (w + sizeDivisibility - 1) / sizeDivisibility * sizeDivisibility;
        const int c = 3;
        var data = TensorPool.Rent(checked(samples.Count * c * h * w));
        data.AsSpan().Clear(); // pooled buffers hold old values; the padding must be 0
        for (int n = 0; n < samples.Count; n++)
        {
            var s = samples[n];
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < s.Height; y++)
                    s.Image.AsSpan((ch * s.Height + y) * s.Width, s.Width)
                        .CopyTo(data.AsSpan(((n * c + ch) * h + y) * w, s.Width));
        }
        return new ImageBatch(data, samples.Count, c, h, w, samples);
    }
}
