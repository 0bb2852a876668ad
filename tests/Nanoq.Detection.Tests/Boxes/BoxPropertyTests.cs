using FsCheck.Xunit;

namespace Nanoq.Detection.Tests;

/// <summary>FsCheck properties of IoU and the box coder (FsCheck draws the seeds; DESIGN.md §9).</summary>
public class BoxPropertyTests
{
    private static float[] Boxes(Rng rng, int n) => BoxesTests.RandomBoxes(rng, n, extent: rng.Uniform(5f, 300f), maxSize: rng.Uniform(1f, 200f));

    [Property(MaxTest = 200)]
    public void IouIsSymmetricAndInZeroOne(ulong seed)
    {
        var rng = new Rng(seed);
        int n = 1 + rng.NextInt(20), m = 1 + rng.NextInt(40);
        float[] a = Boxes(rng, n), b = Boxes(rng, m);
        var ab = new float[n * m];
        var ba = new float[m * n];
        Nanoq.Detection.Boxes.Iou(a, b, ab);
        Nanoq.Detection.Boxes.Iou(b, a, ba);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                float v = ab[i * m + j];
                Assert.Equal(v, ba[j * n + i]);
                Assert.InRange(v, 0f, 1f);
            }
    }

    [Property(MaxTest = 200)]
    public void IouOfABoxWithItselfIsOne(ulong seed)
    {
        var rng = new Rng(seed);
        float[] a = Boxes(rng, 1 + rng.NextInt(30));
        for (int i = 0; i < a.Length; i += 4)
            Assert.Equal(1f, Nanoq.Detection.Boxes.Iou(a.AsSpan(i, 4), a.AsSpan(i, 4)));
    }

    [Property(MaxTest = 200)]
    public void DecodeOfEncodeIsIdentity(ulong seed)
    {
        var rng = new Rng(seed);
        int n = 1 + rng.NextInt(30);
        float[] anchors = Boxes(rng, n), gt = Boxes(rng, n);
        // Keep log(g.w / a.w) under the clamp (a box at most 62.5× its anchor), where decode inverts encode.
        for (int i = 0; i < n; i++)
        {
            float aw = anchors[4 * i + 2] - anchors[4 * i], ah = anchors[4 * i + 3] - anchors[4 * i + 1];
            gt[4 * i + 2] = gt[4 * i] + Math.Min(gt[4 * i + 2] - gt[4 * i], 50 * aw);
            gt[4 * i + 3] = gt[4 * i + 1] + Math.Min(gt[4 * i + 3] - gt[4 * i + 1], 50 * ah);
        }
        var coder = rng.Bernoulli(0.5) ? new BoxCoder(1, 1, 1, 1) : new BoxCoder(10, 10, 5, 5);
        var t = new float[4 * n];
        var back = new float[4 * n];
        coder.EncodeSingle(gt, anchors, t);
        coder.DecodeSingle(t, anchors, back);
        for (int k = 0; k < back.Length; k++)
        {
            // Float32 rounding of the center (|coordinate|) and of log/exp on the size (anchor width + height)
            // is a few ulps of those magnitudes.
            int r = k & ~3;
            float scale = Math.Abs(gt[k]) + (anchors[r + 2] - anchors[r]) + (anchors[r + 3] - anchors[r + 1]);
            Assert.True(Math.Abs(back[k] - gt[k]) <= 1e-5f * Math.Max(scale, 1f), $"[{k}] {gt[k]:R} → {back[k]:R}");
        }
    }

    [Property(MaxTest = 100)]
    public void ConversionsRoundTrip(ulong seed)
    {
        var rng = new Rng(seed);
        float[] a = Boxes(rng, 1 + rng.NextInt(20));
        var c = new float[a.Length];
        var back = new float[a.Length];
        Nanoq.Detection.Boxes.XyxyToCxcywh(a, c);
        Nanoq.Detection.Boxes.CxcywhToXyxy(c, back);
        for (int k = 0; k < a.Length; k++) Assert.Equal(a[k], back[k], 1e-4f * Math.Max(1f, Math.Abs(a[k])));
    }
}
