using System.Globalization;
using Nanoq.Autograd;
using Nanoq.Kernels.Integer;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Integer.Program;
using Nanoq.Quant.Taps;
using Xunit.Abstractions;

namespace Nanoq.Tests.Program;

/// <summary>
/// A model the converter has never seen — built only here, with a concat, a max pool, an upsample, a residual add, a
/// ReLU between layers, a flatten and a linear layer — converts with no model-specific code and runs in the integer
/// interpreter, agreeing with its fake-quant model within the rounding budget.
/// </summary>
public class AnyModelConvertsTests(ITestOutputHelper output)
{
    /// <summary>
    /// x → input site → a = conv3×3+BN+ReLU(x) → p = maxpool(a) → b = conv1×1(p) → u = upsample(b, like a) → s = add(a, u)
    /// → c = concat(s, a) → r = relu(conv3×3 s2(c)) → f = flatten(r) → y = linear(f) → ReLU-free logits.
    /// </summary>
    private sealed class Zoo : Module
    {
        public Zoo(Rng rng)
        {
            var c1 = Child("c1", new Conv2d(3, 6, 3, padding: 1, rng: rng));
            var bn = Child("bn1", RandomBn(6, rng));
            var c2 = Child("c2", new Conv2d(6, 6, 1, rng: rng));
            var c3 = Child("c3", new Conv2d(12, 4, 3, stride: 2, padding: 1, rng: rng));
            var fc = Child("fc", new Linear(4 * 4 * 4, 5, rng: rng));
            Input = Tap("input", new ActivationSite());
            A = Tap("a", new ConvUnit(c1, bn, ActivationKind.Relu));
            B = Tap("b", new ConvUnit(c2, null, ActivationKind.None));
            S = Tap("s", new AddUnit(ActivationKind.None));
            R = Tap("r", new ConvUnit(c3, null, ActivationKind.None));
            Y = Tap("y", new LinearUnit(fc, ActivationKind.None));
        }

        public ActivationSite Input { get; }
        public ConvUnit A { get; }
        public ConvUnit B { get; }
        public AddUnit S { get; }
        public ConvUnit R { get; }
        public LinearUnit Y { get; }

        public Var Forward(Var x)
        {
            x = Input.Forward(x);
            var a = A.Forward(x);
            var b = B.Forward(Fn.MaxPool2d(a, 2, 2));
            var s = S.Forward(a, Fn.UpsampleNearest(b, a));
            var r = Fn.Relu(R.Forward(Fn.Concat([s, a], 1)));
            return Y.Forward(Fn.Flatten(r));
        }

        private static BatchNorm2d RandomBn(int c, Rng rng)
        {
            var bn = new BatchNorm2d(c);
            rng.FillUniform(bn.Weight.Value.Span, 0.5f, 1.5f);
            rng.FillNormal(bn.Bias.Value.Span, 0f, 0.3f);
            rng.FillNormal(bn.RunningMean.Span, 0f, 0.3f);
            rng.FillUniform(bn.RunningVar.Span, 0.5f, 2f);
            return bn;
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void It_runs_in_the_interpreter_and_agrees_with_its_fake_quant_model(int bits)
    {
        var rng = new Rng(17);
        var zoo = new Zoo(rng);
        ModelQuantizer.Install(zoo, QuantRecipe.Fqn(bits));
        var batches = Enumerable.Range(0, 4).Select(_ => rng.Normal(new Shape(2, 3, 8, 8))).ToList();
        // The concat joins s and a: their codes must share a grid, as they would after a shared quantizer. Give s the
        // grid of a (a model that concatenates would quantize both with one range).
        Calibrator.Calibrate(zoo, batches, b => zoo.Forward(new Var(b)), 4);
        ((Quant.Quantizers.ActQuantizer)zoo.S.OutputQuantizer!).SetQParams(((Quant.Quantizers.ActQuantizer)zoo.A.OutputQuantizer!).Current!.Value);
        var model = ProgramConverter.Convert(zoo, x => [zoo.Forward(x)], Tensor.Zeros(1, 3, 8, 8), RequantRounding.Single);
        Assert.Equal(["conv2d", "maxpool", "conv2d", "upsample", "add", "concat", "conv2d", "clamp", "flatten", "linear"],
                     model.Program.Ops.Select(o => o.Kind).ToArray());

        // The fake-quant output on its grid vs the integer output, on fresh images (another batch size than the trace's).
        var images = rng.Normal(new Shape(40, 3, 8, 8));
        zoo.Eval();
        Tensor want;
        using (GradMode.NoGrad()) want = zoo.Forward(new Var(images)).Value.Clone();
        var got = model.RunCodes(images)[0];
        var grid = model.Grid(model.Program.Outputs[0]);
        var wantCodes = FakeQuant.Codes(want, grid);
        Assert.Equal([40, 5], got.Shape);
        int differ = 0, max = 0;
        for (int i = 0; i < wantCodes.Length; i++)
        {
            int d = Math.Abs(wantCodes[i] - got.Data[i]);
            if (d > 0) differ++;
            max = Math.Max(max, d);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bits} bits: {differ} of {wantCodes.Length} output codes differ, max {max} step(s)"));
        // Budget: each of the 5 requantizing layers may land one step off at a near-tie (single rounding: the bias on the
        // Δ_w·Δ_x grid, ≤ ½·M of a step); through the chain a step off upstream moves the fc output by at most
        // Σ|w_q − z_w|·Δ_w·Δ_x/Δ_y of one input step. Measured (40 images, 200 outputs): 8 bits 4 differ, max 1 step;
        // 4 bits 59 differ, max 2 steps — at 4 bits one input step is a large part of the fc's output step.
        Assert.True(max <= 2, $"an output code differs by {max} steps");
        Assert.True(differ <= wantCodes.Length / 3, $"{differ} of {wantCodes.Length} output codes differ");
    }

    [Fact]
    public void A_float_computation_between_layers_is_refused_naming_the_reader()
    {
        var rng = new Rng(3);
        var zoo = new Zoo(rng);
        ModelQuantizer.Install(zoo, QuantRecipe.Fqn(8));
        Calibrator.Calibrate(zoo, [rng.Normal(new Shape(1, 3, 8, 8))], b => zoo.Forward(new Var(b)), 1);
        // Scale a's output in float before b reads it: no tap or traced op produced b's input.
        Var Sneaky(Var x)
        {
            x = zoo.Input.Forward(x);
            var a = Fn.Scale(zoo.A.Forward(x), 2f);
            return zoo.B.Forward(a);
        }
        var e = Assert.Throws<NotSupportedException>(() => ProgramConverter.Convert(zoo, x => [Sneaky(x)], Tensor.Zeros(1, 3, 8, 8)));
        Assert.Contains("'b'", e.Message);
        Assert.Contains("no tap or traced op", e.Message);
    }

    [Fact]
    public void Concatenating_codes_on_different_grids_is_refused()
    {
        var rng = new Rng(5);
        var zoo = new Zoo(rng);
        ModelQuantizer.Install(zoo, QuantRecipe.Fqn(4));
        Calibrator.Calibrate(zoo, [rng.Normal(new Shape(1, 3, 8, 8))], b => zoo.Forward(new Var(b)), 1);
        var e = Assert.Throws<NotSupportedException>(() => ProgramConverter.Convert(zoo, x => [zoo.Forward(x)], Tensor.Zeros(1, 3, 8, 8)));
        Assert.Contains("share a grid", e.Message);
    }
}
