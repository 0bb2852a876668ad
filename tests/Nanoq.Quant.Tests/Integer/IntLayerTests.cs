using System.Text;
using System.Text.Json;
using Nanoq.Kernels.Integer;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>Integer layers through an NQIM file: written, read back and run, they give the same codes.</summary>
public class IntLayerTests
{
    [Fact]
    public void ConvAndAdd_RoundTripThroughAFile()
    {
        var rng = new Rng(61);
        int cin = 6, cout = 8, h = 9, w = 10;
        var codes = Enumerable.Range(0, cout * cin * 9).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var zw = Enumerable.Range(0, cout).Select(_ => rng.NextInt(16)).ToArray();
        var bias = Enumerable.Range(0, cout).Select(_ => rng.NextInt(-500, 500)).ToArray();
        var m = QuantizedMultiplier.ForConv(Enumerable.Range(0, cout).Select(_ => rng.Uniform(0.01f, 0.03f)).ToArray(), 0.1f, 0.2f);
        var rq = new Requantization(m.Select(q => q.Multiplier).ToArray(), m.Select(q => q.Shift).ToArray(), 5, 5, 15, RequantRounding.Single);
        var conv = new IntConvLayer("layer1.0.conv1", cin, cout, 3, 3, 1, 1, 1, 1, 1, 1, 1, codes, zw, 4, 7, 4, bias, rq);
        var add = new IntAddLayer("layer1.0.add", QuantizedMultiplier.ForAdd(0.2f, 5, 0.15f, 3, 0.3f, 4, 4, 15));

        var graph = new MemoryStream();
        using (var jw = new Utf8JsonWriter(graph))
        {
            jw.WriteStartObject();
            jw.WriteStartArray("layers");
            conv.WriteJson(jw);
            add.WriteJson(jw);
            jw.WriteEndArray();
            jw.WriteEndObject();
        }
        var model = new IntModel(conv.ToTensors(), Encoding.UTF8.GetString(graph.ToArray()));
        var back = IntModelFile.FromBytes(IntModelFile.ToBytes(model), "mem");
        using var doc = JsonDocument.Parse(back.GraphJson);
        var layers = doc.RootElement.GetProperty("layers");
        var conv2 = IntConvLayer.Read(back, layers[0]);
        var add2 = IntAddLayer.Read(layers[1]);
        Assert.Equal(add.Parameters, add2.Parameters);
        Assert.Equal(RequantRounding.Single, conv2.Requantization.Rounding);

        var x = Enumerable.Range(0, 2 * cin * h * w).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var y1 = new byte[2 * cout * h * w];
        var y2 = new byte[y1.Length];
        conv.Forward(2, h, w, x, y1);
        conv2.Forward(2, h, w, x, y2);
        Assert.Equal(y1, y2);
        Assert.Equal(y1[5], conv2.Trace(2, h, w, x, 0, 0, 0, 5).Output);
        var s1 = new byte[y1.Length];
        var s2 = new byte[y1.Length];
        add.Forward(y1, y2, s1);
        add2.Forward(y1, y2, s2);
        Assert.Equal(s1, s2);
    }

    [Fact]
    public void Linear_RoundTripsThroughAFile()
    {
        var rng = new Rng(62);
        int inF = 45, outF = 9;
        var codes = Enumerable.Range(0, inF * outF).Select(_ => (byte)rng.NextInt(256)).ToArray();
        var zw = Enumerable.Range(0, outF).Select(_ => rng.NextInt(256)).ToArray();
        var rq = Requantization.PerTensor(1 << 30, -12, 3, 3, 255);
        var fc = new IntLinearLayer("roi_heads.box_head.fc6", inF, outF, codes, zw, 8, 11, 8, [], rq);
        var graph = new MemoryStream();
        using (var jw = new Utf8JsonWriter(graph)) fc.WriteJson(jw);
        var model = IntModelFile.FromBytes(IntModelFile.ToBytes(new IntModel(fc.ToTensors(), Encoding.UTF8.GetString(graph.ToArray()))), "mem");
        using var doc = JsonDocument.Parse(model.GraphJson);
        var back = IntLinearLayer.Read(model, doc.RootElement);
        var x = Enumerable.Range(0, 3 * inF).Select(_ => (byte)rng.NextInt(256)).ToArray();
        var y1 = new byte[3 * outF];
        var y2 = new byte[3 * outF];
        fc.Forward(3, x, y1);
        back.Forward(3, x, y2);
        Assert.Equal(y1, y2);
    }
}
