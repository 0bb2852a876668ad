namespace Nanoq.Detection.Tests.Integer;

/// <summary>Per-layer codes and audits (what <c>nanoq inspect</c> shows): a trace reproduces the code the runtime computed.</summary>
public class IntegerAuditTests
{
    private static readonly Lazy<(IntegerRetinaNet Net, Tensor Images)> Setup = new(() =>
    {
        var d = new QuantizedDetector(QuantizedDetector.Tiny(), 51);
        return (IntegerConverter.Convert(d.Model, d.Registry), QuantizedDetector.Images(new Rng(2), 2, 64));
    });

    [Theory]
    [InlineData("backbone.conv1", 0, 1, 3, 5, 7)]
    [InlineData("backbone.layer2.0.downsample.unit", 0, 0, 2, 1, 1)]
    [InlineData("backbone.layer1.0.add", 0, 1, 4, 0, 15)]
    [InlineData("fpn.topdown3", 0, 0, 7, 2, 3)]
    [InlineData("head.cls0", 2, 1, 5, 1, 0)]      // the head's first conv on P5: its per-level variant head.cls0@P5
    [InlineData("head.bbox_pred", 4, 0, 35, 0, 0)]
    public void TheTraceReproducesTheRuntimesCode(string name, int occurrence, int n, int c, int y, int x)
    {
        var (net, images) = Setup.Value;
        var codes = net.LayerCodes(images, l => l.Name == name)[name][occurrence];
        var audit = net.Audit(images, name, occurrence, n, c, y, x);
        Assert.Equal(codes[n, c, y, x], audit.Code);
        Assert.Equal(name, audit.Layer.Name);
        if (name == "head.cls0") Assert.Equal("head.cls0@P5", audit.Layer.Key);
        string text = audit.ToString();
        Assert.Contains(audit.Conv is not null ? "acc (int32)" : "a' + b'", text);
        Assert.Contains("real value", text);
        var grid = net.Grids[audit.Layer.Key];
        Assert.Equal((audit.Code - grid.ZeroPoint) * grid.Scale, audit.RealValue);
    }

    [Fact]
    public void EveryLayerHasCodesForEveryCall()
    {
        var (net, images) = Setup.Value;
        var all = net.LayerCodes(images);
        foreach (var l in net.Layers)
            Assert.Equal(l.Name.StartsWith("head.", StringComparison.Ordinal) ? 5 : 1, all[l.Name].Count);
        Assert.Throws<ArgumentException>(() => net.Audit(images, "fpn.p6", 1, 0, 0, 0, 0));
    }
}
