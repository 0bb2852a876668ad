using static Nanoq.Onnx.Tests.GraphBuilder;

namespace Nanoq.Onnx.Tests;

/// <summary>The first unsupported op or attribute is named, with its node.</summary>
public class ErrorTests
{
    [Fact]
    public void Unsupported_op_is_named_with_its_node()
    {
        var g = new GraphBuilder("x", [1, 3, 8, 8]);
        g.Node("Conv", "conv1", ["x", g.Random("W", 0.5f, [4, 3, 3, 3])], ["y"], Ints("pads", 1, 1, 1, 1));
        g.Node("LeakyRelu", "lrelu7", ["y"], ["z"], Float("alpha", 0.1f));
        g.Node("Softmax", "sm", ["z"], ["out"]);
        g.Output("out");
        var ex = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(g.Model));
        Assert.Equal("lrelu7", ex.NodeName);
        Assert.Equal("LeakyRelu", ex.OpType);
        Assert.Null(ex.Attribute);
        Assert.StartsWith("node 'lrelu7' (LeakyRelu): op LeakyRelu is not supported", ex.Message);
    }

    [Theory]
    [InlineData("auto_pad", "SAME_UPPER")]
    [InlineData("pads", null)]
    [InlineData("strides", null)]
    [InlineData("foo", null)]
    public void Unsupported_conv_attribute_is_named(string attribute, string? text)
    {
        var g = new GraphBuilder("x", [1, 3, 8, 8]);
        var attr = attribute switch
        {
            "auto_pad" => Str("auto_pad", text!),
            "pads" => Ints("pads", 0, 0, 1, 1), // ends beyond the begin: not one symmetric pad
            "strides" => Ints("strides", 1, 2),
            _ => Int("foo", 3),
        };
        g.Node("Conv", "convX", ["x", g.Random("W", 0.5f, [4, 3, 3, 3])], ["out"], attr);
        g.Output("out");
        var ex = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(g.Model));
        Assert.Equal(("convX", "Conv", attribute), (ex.NodeName, ex.OpType, ex.Attribute));
        Assert.Contains(attribute, ex.Message);
    }

    [Fact]
    public void Unsupported_pooling_attributes_are_named()
    {
        var g = new GraphBuilder("x", [1, 3, 8, 8]);
        g.Node("AveragePool", "avg", ["x"], ["out"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)); // count_include_pad = 0
        g.Output("out");
        var ex = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(g.Model));
        Assert.Equal("count_include_pad", ex.Attribute);

        g = new GraphBuilder("x", [1, 3, 8, 8]);
        g.Node("MaxPool", "mp", ["x"], ["out"], Ints("kernel_shape", 3, 3), Int("ceil_mode", 1));
        g.Output("out");
        ex = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(g.Model));
        Assert.Equal(("mp", "ceil_mode"), (ex.NodeName, ex.Attribute));
    }

    [Fact]
    public void A_clip_other_than_relu6_is_refused()
    {
        var g = new GraphBuilder("x", [1, 3, 8, 8]);
        g.Node("Clip", "clip", ["x", g.Init("lo", [-1f]), g.Init("hi", [1f])], ["out"]);
        g.Output("out");
        var ex = Assert.Throws<OnnxImportException>(() => OnnxImporter.Import(g.Model));
        Assert.Equal(("clip", "Clip"), (ex.NodeName, ex.OpType));
        Assert.Contains("(0, 6)", ex.Message);
    }

    [Fact]
    public void Not_an_onnx_file_is_an_import_error()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "this is not protobuf at all \u0001\u0002");
        try { Assert.Throws<OnnxImportException>(() => OnnxImporter.Load(path)); }
        finally { File.Delete(path); }
    }
}
