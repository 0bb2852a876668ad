using Nanoq.Cli.Pipeline;
using Nanoq.Detection;
using Nanoq.Onnx;

namespace Nanoq.Cli.Commands;

/// <summary>
/// <c>nanoq export</c>: a run folder's float or fake-quant detector as ONNX (<see cref="OnnxExporter"/>): the network
/// up to its raw outputs (postprocessing stays outside), float, or QDQ with every weight and activation grid.
/// </summary>
public static class ExportCommand
{
    internal static readonly CliCommand Definition = new("export",
        """
        Usage: nanoq export --onnx FILE [--out DIR] [--model float|fake-quant] [--bits 4] [--recipe ...] [--four-bit-types]
        """,
        """
        Writes the detector of the run folder as ONNX (Faster R-CNN: its first stage, the RPN maps and P2-P5, since
        proposals and RoIAlign need the host): --model float (batch norm folded, raw head outputs) or fake-quant
        (QDQ: per-channel weight QuantizeLinear/DequantizeLinear, every activation's grid, 4-bit grids in 8-bit
        containers clipped to their 16 codes; --four-bit-types stores opset-21 uint4 instead). Batch, height and width
        are dynamic. The file's metadata names the detector and each output's grid.
        """,
        spec =>
        {
            spec.Text("--onnx", "FILE", "the ONNX file to write");
            spec.Text("--out", "DIR", "the run folder (default runs/shapes)");
            spec.Text("--model", "KIND", "float (default) or fake-quant");
            spec.Flag("--four-bit-types", "store 4-bit grids as ONNX uint4 (opset 21) instead of uint8 with a clip");
            QuantizeCommand.DeclareRecipe(spec, fineTuning: true);
        },
        (cl, stdout, stderr) =>
        {
            string path = cl.Required("--onnx");
            using var run = QuantizeCommand.OpenRun(cl);
            string kind = cl.Get("--model") ?? "float";
            IDetector detector = kind switch
            {
                "float" => Stages.LoadFloat(run),
                "fake-quant" => QuantStages.Load(run, QuantizeCommand.Recipe(cl), run.QuantCheckpoint(QuantizeCommand.Recipe(cl))).Model,
                _ => throw new UsageException($"--model must be float or fake-quant, got '{kind}'"),
            };
            int side = (detector.Config.InputSize + 31) / 32 * 32;
            using var sample = Tensor.Zeros(1, 3, side, side);
            // A two-stage detector exports its first stage (Faster R-CNN: RPN maps and P2–P5); proposals, RoIAlign and
            // the box head need the host's box geometry, which ONNX's graph does not carry.
            Func<Autograd.Var, IReadOnlyList<Autograd.Var>> forward = detector is IStagedDetector staged ? staged.FirstStage : x => detector.Forward(x).Outputs;
            var proto = OnnxExporter.Export(detector.Network, forward, sample, quantized: kind == "fake-quant",
                new OnnxExportOptions
                {
                    FourBitTypes = cl.Has("--four-bit-types"),
                    Metadata = new Dictionary<string, string> { [IntegerDetector.KindKey] = detector.Kind, [IntegerDetector.ConfigKey] = detector.ConfigJson },
                });
            OnnxExporter.Save(proto, path);
            string part = detector is IStagedDetector ? " first stage (RPN maps and P2-P5)" : "";
            stdout.WriteLine($"{path}: {kind} {detector.Kind}{part} ({proto.Graph.Node.Count} nodes, {new FileInfo(path).Length / 1024.0:F1} KiB)");
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);
}
