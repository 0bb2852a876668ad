using Nanoq.Cli.Pipeline;
using Nanoq.Detection;
using Nanoq.Nn.Checkpoints;

namespace Nanoq.Cli.Commands;

/// <summary>
/// <c>nanoq import</c>: a detector trained with torchvision → a run folder (model.json + float.safetensors) that
/// <c>eval</c>, <c>detect</c>, <c>quantize</c>, <c>convert</c> and <c>export</c> take as they take a trained one.
/// </summary>
public static class ImportCommand
{
    internal static readonly CliCommand Definition = new("import",
        """
        Usage: nanoq import --arch NAME --weights FILE.safetensors --num-classes N --out DIR
                            [--min-size 800] [--max-size 1333] [--data NAME|DIR]
                            [--width X] [--fpn-channels N] [--anchor-size N] [--box-head N]
        """,
        $"""
        Loads a torchvision detector's state dict (torchvision's tensor names, from safetensors; tools/pth_to_safetensors.py
        converts a .pth) into the same architecture built by Nanoq, and writes a run folder. --num-classes is torchvision's
        num_classes (Faster R-CNN's counts its background class). Labels follow torchvision's COCO convention: label l is
        COCO category id l, so evaluation and fine-tuning map the data's category ids to the model's labels by id (a data
        category the model has no label for is refused). Images go through torchvision's GeneralizedRCNNTransform
        (--min-size/--max-size, ImageNet mean and std), exactly.
        Architectures: {string.Join(", ", TorchvisionArchitectures.Names)}. --width, --fpn-channels, --anchor-size and
        --box-head describe a model built from those classes with other sizes (default: torchvision's).
        """,
        spec =>
        {
            spec.Text("--arch", "NAME", "torchvision builder name, e.g. retinanet_resnet50_fpn or fasterrcnn_resnet50_fpn");
            spec.Text("--weights", "FILE", "the state dict as safetensors (F32, F16 or BF16), torchvision's names");
            spec.Int("--num-classes", "N", "torchvision's num_classes (91 for its COCO models)", 1, 100_000);
            spec.Text("--out", "DIR", "the run folder to write");
            spec.Int("--min-size", "N", "GeneralizedRCNNTransform's min_size (default 800)", 32, 4096);
            spec.Int("--max-size", "N", "GeneralizedRCNNTransform's max_size (default 1333)", 32, 8192);
            spec.Text("--data", "NAME|DIR", "the data set later commands use by default; its category names name the classes");
            spec.Float("--width", "X", "backbone channel multiplier (default 1)", 0.05f, 4f);
            spec.Int("--fpn-channels", "N", "FPN channels (default 256)", 1, 1024);
            spec.Int("--anchor-size", "N", "anchor size on the finest level (default 32)", 1, 1024);
            spec.Int("--box-head", "N", "Faster R-CNN: TwoMLPHead width (default 1024)", 1, 8192);
        },
        (cl, stdout, stderr) =>
        {
            string arch = cl.Required("--arch"), weights = cl.Required("--weights");
            var config = TorchvisionArchitectures.Config(arch, cl.Int("--num-classes") ?? throw new UsageException("--num-classes is required (torchvision's num_classes)"), cl.Int("--min-size", 800), cl.Int("--max-size", 1333));
            config = config.WithShared(config.Backbone, cl.Float("--width", config.BackboneWidth), cl.Int("--fpn-channels", config.FpnChannels),
                                       cl.Int("--anchor-size", config.AnchorSize), config.InputSize);
            config = config switch
            {
                FasterRcnnConfig f => f with { RepresentationSize = cl.Int("--box-head", f.RepresentationSize) },
                _ when cl.Has("--box-head") => throw new UsageException("--box-head is Faster R-CNN's; this architecture is a RetinaNet"),
                _ => config,
            };
            config.Validate();
            if (!File.Exists(weights)) throw new UsageException($"--weights: {weights} not found");

            var detector = Detectors.Create(config);
            TorchvisionStateDict.Load(detector, Safetensors.Load(weights), weights);

            // Class k is torchvision's label TorchvisionLabel(k), which is COCO category id label; names from --data.
            var ids = Enumerable.Range(0, config.NumClasses).Select(k => (long)TorchvisionArchitectures.TorchvisionLabel(config.Kind, k)).ToArray();
            string? dataName = cl.Get("--data");
            var known = dataName is null ? null
                : DataSplits.Resolve(dataName, Path.Combine("runs", "data"), stderr).Train.Dataset.Categories.ToDictionary(c => c.Id, c => c.Name);
            var names = ids.Select(id => known is not null && known.TryGetValue(id, out var n) ? n : $"category {id}").ToArray();

            using var run = new RunFolder(cl.Required("--out"));
            run.BeginWriting(stderr);
            run.SaveModelInfo(new RunFolder.ModelInfo(config, names, dataName ?? "", ids));
            var tensors = new Dictionary<string, Tensor>();
            StateDicts.AddPrefixed(tensors, detector.Network.StateDict(), "model.");
            Safetensors.Save(run.FloatCheckpoint, tensors, new Dictionary<string, string>
            {
                ["tag"] = "float", ["step"] = "0", ["imported"] = $"torchvision {arch} from {Path.GetFileName(weights)}",
            });
            stdout.WriteLine($"imported {arch} ({detector.Network.ParameterCount():N0} parameters) from {weights}: {config.Describe()}");
            stdout.WriteLine($"wrote {run.ModelJson} and {run.FloatCheckpoint}; classes = COCO category ids {ids[0]}..{ids[^1]}");
            stdout.WriteLine($"next: nanoq eval --out {run.Dir} --model float{(dataName is null ? " --data DIR" : "")}, then nanoq quantize / convert --out {run.Dir}");
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);
}
