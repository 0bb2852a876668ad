namespace Nanoq.Coco.Data;

/// <summary>
/// A batch of images as one float buffer in NCHW with explicit dims, plus each image's sample (targets, its own
/// size before padding, its box map). Images sit at the top-left of their slot; the rest is 0 (the mean colour
/// after normalization), so boxes need no shift.
/// <see cref="Data"/> comes from <see cref="TensorPool"/> (a training step's batch has the same size every time, so
/// reusing it avoids faulting in fresh pages each step); <see cref="Dispose"/> gives it back — after that the batch
/// must not be used. Not disposing is safe (the GC takes it).
/// </summary>
public sealed record ImageBatch(float[] Data, int N, int C, int H, int W, IReadOnlyList<DetectionSample> Samples) : IDisposable
{
    private bool _returned;

    public void Dispose()
    {
        if (_returned) return;
        _returned = true;
        TensorPool.Return(Data);
    }

    public ReadOnlySpan<float> ImageSlot(int n) => Data.AsSpan(n * C * H * W, C * H * W);
}
