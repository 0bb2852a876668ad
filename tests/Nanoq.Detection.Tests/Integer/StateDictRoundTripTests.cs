using Nanoq.Autograd;
using Nanoq.Nn.Checkpoints;
using Nanoq.Quant;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>A calibrated, fine-tuned quantized detector is its state dict: a fresh model restores the same outputs bit for bit, with no side files.</summary>
public sealed class StateDictRoundTripTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nanoq-sd-" + Guid.NewGuid().ToString("N"));

    public StateDictRoundTripTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("fqn")]
    [InlineData("baseline")]
    [InlineData("lsq")]
    public void A_fresh_model_loaded_from_the_file_gives_the_same_outputs_and_integer_program(string method)
    {
        var recipe = method switch { "lsq" => QuantRecipe.Lsq(4), "baseline" => QuantRecipe.Ablation(4)[0], _ => QuantRecipe.Fqn(4) };
        var d = new QuantizedDetector(QuantizedDetector.Tiny(), 61, recipe: recipe);
        // Two fine-tuning steps: weights, BN statistics (baseline), EMA ranges (baseline) and learned steps (LSQ) move.
        var images = QuantizedDetector.Images(new Rng(4), 2, 64);
        var targets = new[] { new DetectionTarget([8, 8, 40, 40], [0]), new DetectionTarget([20, 4, 60, 30], [1]) };
        var sgd = new Nn.Optim.Sgd(d.Model.NamedParameters(), 0.01f);
        d.Model.Train();
        for (int i = 0; i < 2; i++)
        {
            using var tape = new Tape();
            d.Model.Loss(d.Model.Forward(new Var(images)), targets).Total.Backward();
            sgd.Step();
            sgd.ZeroGrad();
            ModelQuantizer.SetStep(d.Model, i + 1);
        }
        d.Model.Eval();
        string path = Path.Combine(_dir, "m.safetensors");
        Safetensors.Save(path, d.Model.StateDict());

        var fresh = new Detection.RetinaNet(d.Model.Config, seed: 999);
        ModelQuantizer.Install(fresh, recipe);
        fresh.LoadStateDict(Safetensors.Load(path));
        fresh.Eval();
        var probe = QuantizedDetector.Images(new Rng(5), 2, 64);
        Tensor[] a, b;
        using (GradMode.NoGrad())
        {
            a = d.Model.Forward(new Var(probe)).Outputs.Select(v => v.Value.Clone()).ToArray();
            b = fresh.Forward(new Var(probe)).Outputs.Select(v => v.Value.Clone()).ToArray();
        }
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i].ToArray(), b[i].ToArray());
        var ia = Detectors.Convert(d.Model, Tensor.Zeros(1, 3, 64, 64)).Model.RunCodes(probe);
        var ib = Detectors.Convert(fresh, Tensor.Zeros(1, 3, 64, 64)).Model.RunCodes(probe);
        for (int i = 0; i < ia.Length; i++) Assert.Equal(ia[i].Data, ib[i].Data);
    }
}
