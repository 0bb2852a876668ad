using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Taps;
using Xunit.Abstractions;

namespace Nanoq.Onnx.Tests;

/// <summary>
/// The exported upsample (Resize nearest, asymmetric, floor, sizes read at run time) against Nanoq's ⌊dst·in/out⌋ on
/// integer and non-integer ratios: one export (dynamic height and width) run at many sizes.
/// </summary>
public class ExportResizeTests(ITestOutputHelper output)
{
    private sealed class Pyramid : Module
    {
        public Pyramid() => Input = Tap("input", new ActivationSite());

        public ActivationSite Input { get; }

        /// <summary>x → site → p = maxpool(x, 3, 2) → upsample(p, like x): ratio out/in = H / ⌊(H − 1)/2⌋.</summary>
        public Var Forward(Var x)
        {
            x = Input.Forward(x);
            return Fn.UpsampleNearest(Fn.MaxPool2d(x, 3, 2), x);
        }
    }

    [Fact]
    public void ResizeMatchesNanoqsIndexRuleAtEverySize()
    {
        var net = new Pyramid();
        net.Eval();
        var onnx = OnnxExporter.Export(net, x => [net.Forward(x)], Tensor.Zeros(1, 1, 14, 14), quantized: false);
        var rng = new Rng(2);
        var mismatched = new List<int>();
        for (int h = 5; h <= 80; h++)
        {
            var x = rng.Normal(new Shape(1, 1, h, h + 1));
            Tensor want;
            using (GradMode.NoGrad()) using (new Tape()) want = net.Forward(new Var(x)).Value.Clone();
            var got = OrtPeer.Run(onnx, x.ToArray(), x.Shape.ToArray(), ["output_0"])["output_0"];
            Assert.Equal(want.Shape.ToArray(), got.Dims);
            if (!got.Data.AsSpan().SequenceEqual(want.Span)) mismatched.Add(h);
        }
        output.WriteLine($"sizes 5..80 (ratios {5}/{(5 - 1) / 2} … 80/{(80 - 1) / 2}): mismatched at [{string.Join(", ", mismatched)}]");
        Assert.Empty(mismatched);
    }
}
