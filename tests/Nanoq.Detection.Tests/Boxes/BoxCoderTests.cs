namespace Nanoq.Detection.Tests;

/// <summary>BoxCoder against torchvision's det_utils.BoxCoder (box_coder.json) and by hand.</summary>
public class BoxCoderTests
{
    private static readonly System.Text.Json.JsonElement Fixture = TorchvisionFixture.Json("box_coder.json");

    // log and exp are not correctly rounded in either library, so values agree to a few ulps, not bitwise.
    private const double Rel = 1e-5;

    private static BoxCoder CoderOf(System.Text.Json.JsonElement c)
    {
        float[] w = c.Floats("weights");
        var coder = new BoxCoder(w[0], w[1], w[2], w[3]);
        Assert.Equal((float)c.Double("bbox_xform_clip"), coder.BboxXformClip);
        return coder;
    }

    [Fact]
    public void EncodeMatchesTorchvision()
    {
        foreach (var c in Fixture.Cases("cases"))
        {
            var coder = CoderOf(c);
            float[] anchors = c.Floats("anchors"), gt = c.Floats("gt");
            var targets = new float[anchors.Length];
            coder.EncodeSingle(gt, anchors, targets);
            TorchvisionFixture.Close(c.Floats("targets"), targets, Rel, what: "targets");
        }
    }

    [Fact]
    public void DecodeMatchesTorchvisionIncludingTheClamp()
    {
        foreach (var c in Fixture.Cases("cases"))
        {
            var coder = CoderOf(c);
            float[] anchors = c.Floats("anchors");
            var decoded = new float[anchors.Length];
            coder.DecodeSingle(c.Floats("deltas"), anchors, decoded);
            TorchvisionFixture.Close(c.Floats("decoded"), decoded, Rel, what: "decoded");
            coder.DecodeSingle(c.Floats("targets"), anchors, decoded);
            TorchvisionFixture.Close(c.Floats("roundtrip"), decoded, Rel, what: "roundtrip");
        }
    }

    [Fact]
    public void DecodeWithKClassesPerBoxMatchesTorchvision()
    {
        foreach (var c in Fixture.Cases("cases"))
        {
            var coder = CoderOf(c);
            float[] anchors = c.Floats("anchors")[..(16 * 4)], codes = c.Floats("deltas_k");
            using var t = coder.DecodeSingle(Tensor.FromArray(codes, 16, 12), Tensor.FromArray(anchors, 16, 4));
            Assert.Equal(new Shape(16, 12), t.Shape);
            TorchvisionFixture.Close(c.Floats("decoded_k"), t.Span, Rel, what: "decoded_k");
        }
    }

    [Fact]
    public void EncodeByHand()
    {
        // Anchor [0,0,10,20]: w 10, h 20, center (5, 10). Box [5,0,25,20]: w 20, h 20, center (15, 10).
        // dx = (15 − 5)/10 = 1, dy = 0, dw = log 2, dh = 0; weights (10,10,5,5) scale them.
        var t = new float[4];
        new BoxCoder(1, 1, 1, 1).EncodeSingle([5, 0, 25, 20], [0, 0, 10, 20], t);
        Assert.Equal([1f, 0f, MathF.Log(2), 0f], t);
        new BoxCoder(10, 10, 5, 5).EncodeSingle([5, 0, 25, 20], [0, 0, 10, 20], t);
        Assert.Equal([10f, 0f, 5 * MathF.Log(2), 0f], t);
    }

    [Fact]
    public void DecodeClampsOnlyTheUpperSideOfTheSizeDeltas()
    {
        var coder = new BoxCoder(1, 1, 1, 1);
        var p = new float[4];
        // dw = 100 is clamped to log(1000/16): width 10 → 10 · 62.5 = 625, centered at 5.
        coder.DecodeSingle([0, 0, 100, -100], [0, 0, 10, 10], p);
        Assert.Equal(625f, p[2] - p[0], 2e-3f);
        Assert.Equal(5f, (p[0] + p[2]) / 2, 1e-4f);
        // dh = −100 is not clamped: the height collapses to ~0 around the center.
        Assert.Equal(0f, p[3] - p[1], 1e-6f);
        Assert.Equal(MathF.Log(1000f / 16), BoxCoder.DefaultBboxXformClip, 1e-6f);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BoxCoder(0, 1, 1, 1));
        var coder = new BoxCoder(1, 1, 1, 1);
        Assert.Throws<ArgumentException>(() => coder.EncodeSingle(new float[8], new float[4], new float[4]));
        Assert.Throws<ArgumentException>(() => coder.DecodeSingle(new float[6], new float[4], new float[6]));
    }
}
