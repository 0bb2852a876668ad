namespace Nanoq.Detection.Tests;

/// <summary>AnchorGenerator against torchvision's (anchors.json) and by hand.</summary>
public class AnchorGeneratorTests
{
    private static readonly System.Text.Json.JsonElement Fixture = TorchvisionFixture.Json("anchors.json");

    private static float[][] Levels(System.Text.Json.JsonElement c, string field) =>
        c.GetProperty(field).EnumerateArray().Select(l => l.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();

    private static (int, int)[] Grids(System.Text.Json.JsonElement c) =>
        c.GetProperty("grid_sizes").EnumerateArray().Select(g => (g[0].GetInt32(), g[1].GetInt32())).ToArray();

    [Fact]
    public void AnchorsMatchTorchvisionExactly()
    {
        foreach (var c in Fixture.Cases("cases"))
        {
            var gen = new AnchorGenerator(Levels(c, "sizes"), Levels(c, "aspect_ratios"));
            int[] perLocation = c.Ints("num_anchors_per_location");
            var cells = c.GetProperty("cell_anchors").EnumerateArray().ToArray();
            for (int l = 0; l < gen.NumLevels; l++)
            {
                Assert.Equal(perLocation[l], gen.NumAnchorsPerLocation(l));
                TorchvisionFixture.Exact(cells[l].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(),
                                         gen.CellAnchors(l), $"{c.Name()} cell {l}");
            }
            int[] image = c.Ints("image_size");
            using var anchors = gen.Generate(image[0], image[1], Grids(c));
            // Integer-valued everywhere, so exact; the brief's 1e-5 relative bound is far looser.
            TorchvisionFixture.Exact(c.Floats("anchors"), anchors.Span, c.Name());
        }
    }

    [Fact]
    public void RetinaNetHelperReproducesTorchvisionsDefaultSizes()
    {
        var c = Fixture.Cases("cases").First(e => e.Name() == "retinanet_96x128");
        var gen = AnchorGenerator.RetinaNet();
        var sizes = Levels(c, "sizes");
        Assert.Equal(5, gen.NumLevels);
        for (int l = 0; l < 5; l++)
        {
            Assert.Equal(sizes[l], gen.Sizes(l));
            Assert.Equal([0.5f, 1f, 2f], gen.AspectRatios(l));
        }
        Assert.Equal([32f, 40f, 50f], gen.Sizes(0));   // int(32·2^(1/3)) = 40, int(32·2^(2/3)) = 50
        Assert.Equal([512f, 645f, 812f], gen.Sizes(4));
        using var anchors = gen.Generate(96, 128, Grids(c));
        TorchvisionFixture.Exact(c.Floats("anchors"), anchors.Span, "retinanet");

        var small = Fixture.Cases("cases").First(e => e.Name() == "retinanet_small_64x80");
        using var smallAnchors = AnchorGenerator.RetinaNet(smallestSize: 8).Generate(64, 80, Grids(small));
        TorchvisionFixture.Exact(small.Floats("anchors"), smallAnchors.Span, "retinanet small");
    }

    [Fact]
    public void CellAnchorsByHand()
    {
        // size 32, ratio 0.5: h_ratio = √0.5, w_ratio = √2; w = 45.25, h = 22.63; halves 22.63, 11.31 → round → 23, 11.
        // ratio 1: ±16. ratio 2: w 22.63, h 45.25 → 11, 23.
        var gen = new AnchorGenerator([[32f]], [[0.5f, 1f, 2f]]);
        Assert.Equal([-23f, -11f, 23f, 11f, -16f, -16f, 16f, 16f, -11f, -23f, 11f, 23f], gen.CellAnchors(0));
        // Round half to even (torch.round): size 5, ratio 1 → ±2.5 → ±2.
        Assert.Equal([-2f, -2f, 2f, 2f], new AnchorGenerator([[5f]], [[1f]]).CellAnchors(0));
    }

    [Fact]
    public void OrderIsLocationMajorThenCellAnchorsThenLevels()
    {
        // Two levels: level 0 has 2 anchors a location on a 2×3 grid (stride 4), level 1 one anchor on 1×1.
        var gen = new AnchorGenerator([[2f, 4f], [8f]], [[1f], [1f]]);
        var grids = new (int, int)[] { (2, 3), (1, 1) };
        Assert.Equal(2 * 3 * 2 + 1, gen.NumAnchors(grids));
        using var a = gen.Generate(8, 12, grids);
        // anchor (y=1, x=2, a=1): index (1·3 + 2)·2 + 1 = 11 → cell [-2,-2,2,2] shifted by (x·4, y·4) = (8, 4).
        Assert.Equal([6f, 2f, 10f, 6f], a.Span.Slice(11 * 4, 4).ToArray());
        // anchor (y=0, x=1, a=0): index 2 → [-1,-1,1,1] + (4, 0).
        Assert.Equal([3f, -1f, 5f, 1f], a.Span.Slice(2 * 4, 4).ToArray());
        // level 1 starts after 12 anchors: stride 8 // 1 = 8, shift 0 → [-4,-4,4,4].
        Assert.Equal([-4f, -4f, 4f, 4f], a.Span.Slice(12 * 4, 4).ToArray());
    }

    [Fact]
    public void MismatchedLevelsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new AnchorGenerator([[32f]], [[1f], [1f]]));
        Assert.Throws<ArgumentException>(() => new AnchorGenerator([[-1f]], [[1f]]));
        var gen = AnchorGenerator.RetinaNet();
        Assert.Throws<ArgumentException>(() => gen.Generate(64, 64, new (int, int)[] { (8, 8) }));
    }
}
