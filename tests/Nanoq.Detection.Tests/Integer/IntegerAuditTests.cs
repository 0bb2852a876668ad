using Nanoq.Quant;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>The audit explains any element of any op of the program, and its explanation ends in the code the runtime computed.</summary>
public class IntegerAuditTests
{
    private static readonly Lazy<(IntegerModel Net, Tensor Images)> Setup = new(() =>
    {
        var d = new QuantizedDetector(QuantizedDetector.Tiny(), 51);
        return (d.Convert().Model, QuantizedDetector.Images(new Rng(2), 2, 64));
    });

    [Theory]
    [InlineData("backbone.conv1", 1, 3, 5, 7)]
    [InlineData("backbone.layer2.0.downsample.unit", 0, 2, 1, 1)]
    [InlineData("backbone.layer1.0.add", 1, 4, 0, 15)]
    [InlineData("fpn.topdown3", 0, 7, 2, 3)]
    [InlineData("head.cls0#2", 1, 5, 1, 0)]      // the head's first conv on P5: its third call
    [InlineData("head.bbox_pred#4", 0, 35, 0, 0)]
    [InlineData("maxpool", 1, 2, 3, 4)]
    [InlineData("upsample", 0, 3, 2, 2)]
    [InlineData("relu", 0, 1, 0, 0)]
    public void TheExplanationEndsInTheRuntimesCode(string name, int n, int c, int y, int x)
    {
        var (net, images) = Setup.Value;
        var input = net.Quantize(0, images);
        var capture = new Capture(name);
        net.Program.Run([input], capture);
        int code = capture.Output![n, c, y, x];
        string text = net.Program.Explain([input], name, [n, c, y, x]);
        // Every explanation states the final code last: "→ y_q = 7", "= 7 (a copy…)", "= 7 (codes keep…)".
        Assert.Matches($@"(y_q = {code}\b|= {code} \(|\) = {code}$|y_q = {code}$)", text.Trim());
        if (name.StartsWith("backbone.conv1", StringComparison.Ordinal)) Assert.Contains("acc (int32)", text);
        if (name.EndsWith(".add", StringComparison.Ordinal)) Assert.Contains("a' + b'", text);
    }

    [Fact]
    public void An_index_outside_the_output_is_a_clear_error()
    {
        var (net, images) = Setup.Value;
        var input = net.Quantize(0, images);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => net.Program.Explain([input], "backbone.conv1", [0, 9999, 0, 0]));
        Assert.Contains("outside shape", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Program.Explain([input], "backbone.conv1", [-1, 0, 0, 0]));
        Assert.Throws<KeyNotFoundException>(() => net.Program.Explain([input], "no.such.op", [0, 0, 0, 0]));
    }

    private sealed class Capture(string name) : Quant.Integer.Program.IIntOpHook
    {
        public Quant.Integer.Program.CodeTensor? Output { get; private set; }

        public Quant.Integer.Program.CodeTensor? AfterOp(Quant.Integer.Program.IntOp op, IReadOnlyList<Quant.Integer.Program.CodeTensor> inputs, Quant.Integer.Program.CodeTensor output)
        {
            if (op.Name == name) Output = output.Clone();
            return null;
        }
    }
}
