using Nanoq.Cli.Training;
using Nanoq.Cli.Commands;

namespace Nanoq.Cli;

/// <summary>
/// The `nanoq` sub-commands: name → entry point. Each takes its arguments and returns the exit code; each parses them
/// with System.CommandLine (<see cref="CliCommand"/>), and writes only to the writers it is given.
/// </summary>
public static class CommandTable
{
    private static readonly (string Name, string Summary, Func<string[], TextWriter, TextWriter, int> Run)[] Table =
    [
        ("run", "the main job: train, calibrate, FQN fine-tune, convert, evaluate all (on shapes by default)", RunCommand.Run),
        ("datasets", "write a bundled data set (shapes, fashion-det) to a folder as COCO", DatasetsCommand.Run),
        ("import", "a torchvision detector's weights (safetensors) → a run folder the other commands take", ImportCommand.Run),
        ("train", "train a float detector (RetinaNet or Faster R-CNN) on a data set and evaluate it", TrainCommand.Run),
        ("quantize", "calibrate and fine-tune the trained detector at k bits (FQN: F+P+C), evaluate it", QuantizeCommand.Run),
        ("ablation", "the F/P/C ablation (Table 2) and DoReFa/XNOR baselines (Table 5), one table", AblationCommand.Run),
        ("reproduce", "the paper's tables and figures in one resumable command: report.md, report.json, PNG figures", ReproduceCommand.Run),
        ("inspect", "per-layer quantizer parameters and the per-channel weight-range ratio histogram", InspectCommand.Run),
        ("convert", "convert the fine-tuned detector to the integer-only model file and evaluate it", ConvertCommand.Run),
        ("eval", "COCO evaluation: a results json against ground truth, or a model of a run folder", EvalCommand.Run),
        ("detect", "detect objects in one image with the float, fake-quant or integer model", DetectCommand.Run),
        ("export", "write the float or fake-quant (QDQ) detector as ONNX", ExportCommand.Run),
        ("fashion-mnist", "train the small CNN on Fashion-MNIST and report test accuracy", FashionMnistCommand.Run),
        ("bench", "time whole-model workloads (ResNet-18 training step, eval forwards)", Bench.BenchCommand.Run),
    ];

    static CommandTable()
    {
        // Imported networks as detection backbones by name (Nanoq.Detection builds backbones by name but does not
        // reference Nanoq.Onnx; the program that has both registers them): onnx:FILE and resnet18-imagenet.
        Nn.Backbones.DetectionBackbones.Register("onnx:FILE", n => n.StartsWith("onnx:", StringComparison.Ordinal), (n, _, _) => Onnx.OnnxBackbone.Resolve(n)!);
        Nn.Backbones.DetectionBackbones.Register(Onnx.OnnxBackbone.ResNet18ImageNetName, n => n == Onnx.OnnxBackbone.ResNet18ImageNetName,
                                                 (n, _, _) => Onnx.OnnxBackbone.Resolve(n)!);
    }

    public static int Dispatch(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            stdout.WriteLine("Usage: nanoq <command> [options]   (nanoq <command> --help for each)");
            stdout.WriteLine();
            foreach (var (name, summary, _) in Table) stdout.WriteLine($"  {name,-14} {summary}");
            return args.Length == 0 ? 2 : 0;
        }
        foreach (var (name, _, run) in Table)
            if (name == args[0]) return run(args[1..], stdout, stderr);
        string? near = Suggest.Nearest(args[0], Table.Select(t => t.Name));
        stderr.WriteLine($"nanoq: unknown command '{args[0]}'{(near is null ? "" : $"; did you mean {near}?")} (see nanoq --help)");
        return 2;
    }
}
