namespace Nanoq.Detection.Tests;

/// <summary>box_iou, box_area, clip, remove_small, box_convert against torchvision (box_ops.json) and by hand.</summary>
public class BoxesTests
{
    private static readonly System.Text.Json.JsonElement Ops = TorchvisionFixture.Json("box_ops.json");

    [Fact]
    public void IouMatchesTorchvisionBitForBit()
    {
        foreach (var c in Ops.Cases("iou"))
        {
            float[] a = c.Floats("boxes1"), b = c.Floats("boxes2"), expected = c.Floats("iou");
            var iou = new float[a.Length / 4 * (b.Length / 4)];
            Boxes.Iou(a, b, iou);
            TorchvisionFixture.Exact(expected, iou, "iou");
        }
    }

    [Fact]
    public void IouTensorOverloadHasShapeNByM()
    {
        var c = Ops.Cases("iou").First();
        using var a = Tensor.FromArray(c.Floats("boxes1"), 40, 4);
        using var b = Tensor.FromArray(c.Floats("boxes2"), 30, 4);
        using var iou = Boxes.Iou(a, b);
        Assert.Equal(new Shape(40, 30), iou.Shape);
        TorchvisionFixture.Exact(c.Floats("iou"), iou.Span, "iou");
    }

    [Fact]
    public void IouByHand()
    {
        // [0,0,2,2] vs [1,1,3,3]: intersection 1·1 = 1, union 4 + 4 − 1 = 7.
        Assert.Equal(1f / 7f, Boxes.Iou([0, 0, 2, 2], [1, 1, 3, 3]));
        // Touching edges: zero-width intersection, IoU 0 (not negative).
        Assert.Equal(0f, Boxes.Iou([0, 0, 2, 2], [2, 0, 4, 2]));
        // Disjoint: the clamp at 0 of both sides, so no negative·negative = positive "intersection".
        Assert.Equal(0f, Boxes.Iou([0, 0, 1, 1], [5, 5, 6, 6]));
        // Contained: 1 / 4, no +1 convention.
        Assert.Equal(0.25f, Boxes.Iou([0, 0, 2, 2], [0, 0, 1, 1]));
        // Two zero-area boxes: 0/0, NaN, as torchvision.
        Assert.True(float.IsNaN(Boxes.Iou([1, 1, 1, 1], [1, 1, 1, 1])));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(40)]
    public void IouVectorPathsEqualTheScalarFormulaForEveryTailLength(int m)
    {
        var rng = new Rng((ulong)m + 1);
        float[] a = RandomBoxes(rng, 5), b = RandomBoxes(rng, m);
        var iou = new float[5 * m];
        Boxes.Iou(a, b, iou);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < m; j++)
                Assert.Equal(Boxes.Iou(a.AsSpan(4 * i, 4), b.AsSpan(4 * j, 4)), iou[i * m + j]);
    }

    [Fact]
    public void AreaMatchesTorchvision()
    {
        var c = Ops.GetProperty("area");
        float[] boxes = c.Floats("boxes");
        var area = new float[boxes.Length / 4];
        Boxes.Area(boxes, area);
        TorchvisionFixture.Exact(c.Floats("area"), area, "area");
        using var t = Boxes.Area(Tensor.FromArray(boxes, boxes.Length / 4, 4));
        TorchvisionFixture.Exact(c.Floats("area"), t.Span, "area tensor");
    }

    [Fact]
    public void ClipMatchesTorchvision()
    {
        var c = Ops.GetProperty("clip");
        float[] boxes = c.Floats("boxes");
        using var t = Boxes.ClipToImage(Tensor.FromArray(boxes, boxes.Length / 4, 4), c.Int("height"), c.Int("width"));
        TorchvisionFixture.Exact(c.Floats("clipped"), t.Span, "clip");
        // In place.
        Boxes.ClipToImage(boxes, c.Int("height"), c.Int("width"), boxes);
        TorchvisionFixture.Exact(c.Floats("clipped"), boxes, "clip in place");
    }

    [Fact]
    public void ClipByHand()
    {
        // (height 10, width 20): x into [0, 20], y into [0, 10].
        float[] b = [-5, -1, 25, 12];
        Boxes.ClipToImage(b, 10, 20, b);
        Assert.Equal([0f, 0f, 20f, 10f], b);
    }

    [Fact]
    public void RemoveSmallMatchesTorchvision()
    {
        var c = Ops.GetProperty("remove_small");
        Assert.Equal(c.Ints("keep"), Boxes.RemoveSmall(c.Floats("boxes"), (float)c.Double("min_size")));
        // A side exactly min_size is kept (>=).
        Assert.Equal([0], Boxes.RemoveSmall([0, 0, 2, 5, 0, 0, 1.9f, 5], 2f));
    }

    [Fact]
    public void ConvertMatchesTorchvision()
    {
        var c = Ops.GetProperty("convert");
        float[] xyxy = c.Floats("xyxy");
        var cx = new float[xyxy.Length];
        Boxes.XyxyToCxcywh(xyxy, cx);
        TorchvisionFixture.Exact(c.Floats("cxcywh"), cx, "cxcywh");
        var back = new float[xyxy.Length];
        Boxes.CxcywhToXyxy(cx, back);
        TorchvisionFixture.Exact(c.Floats("back"), back, "back");
        using var t = Boxes.CxcywhToXyxy(Boxes.XyxyToCxcywh(Tensor.FromArray(xyxy, xyxy.Length / 4, 4)));
        TorchvisionFixture.Exact(c.Floats("back"), t.Span, "back tensor");
    }

    [Fact]
    public void ConvertByHand()
    {
        float[] b = [1, 2, 5, 10];
        Boxes.XyxyToCxcywh(b, b);   // in place
        Assert.Equal([3f, 6f, 4f, 8f], b);
        Boxes.CxcywhToXyxy(b, b);
        Assert.Equal([1f, 2f, 5f, 10f], b);
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Boxes.Iou(new float[5], new float[4], new float[1]));
        Assert.Throws<ArgumentException>(() => Boxes.Iou(new float[4], new float[8], new float[1]));
        Assert.Throws<ArgumentException>(() => Boxes.Iou(Tensor.Zeros(3, 5), Tensor.Zeros(2, 4)));
        Assert.Throws<ArgumentException>(() => Boxes.Area(new float[8], new float[3]));
    }

    [Fact]
    public void EmptySetsGiveEmptyResults()
    {
        Boxes.Iou([], new float[8], []);
        using var iou = Boxes.Iou(Tensor.Zeros(0, 4), Tensor.Zeros(3, 4));
        Assert.Equal(new Shape(0, 3), iou.Shape);
        Assert.Empty(Boxes.RemoveSmall([], 1f));
    }

    internal static float[] RandomBoxes(Rng rng, int n, float extent = 100, float maxSize = 50)
    {
        var b = new float[4 * n];
        for (int i = 0; i < n; i++)
        {
            float x = rng.Uniform(0, extent), y = rng.Uniform(0, extent);
            b[4 * i] = x;
            b[4 * i + 1] = y;
            b[4 * i + 2] = x + rng.Uniform(0.5f, maxSize);
            b[4 * i + 3] = y + rng.Uniform(0.5f, maxSize);
        }
        return b;
    }
}
