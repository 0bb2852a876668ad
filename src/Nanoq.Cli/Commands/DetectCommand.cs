using System.Text.Json;
using Nanoq.Cli.Pipeline;
using Nanoq.Cli.Reports;
using Nanoq.Coco;
using Nanoq.Coco.Data;
using Nanoq.Coco.Imaging;
using Nanoq.IO;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq detect</c>: one image in, boxes drawn and detections json out, with the float, fake-quant or integer model.</summary>
public static class DetectCommand
{
    internal static readonly CliCommand Definition = new("detect",
        """
        Usage: nanoq detect --image PATH [--model float|fake-quant|integer] [--out DIR] [--bits 4] [--score 0.5] [--save OUT.png] [--json OUT.json]
        """,
        """
        Runs a model of the run folder DIR (default runs/shapes) on one PNG/JPEG/BMP image, prints the detections
        (class, score, box x1 y1 x2 y2 in the image's pixels) with score >= --score, and writes the image with the
        boxes drawn (default <image>.<model>.png next to the run folder) and, with --json, the detections as json.
        """,
        spec =>
        {
            spec.Text("--image", "PATH", "the image (required)");
            spec.Text("--model", "KIND", "float, fake-quant or integer (default integer)");
            spec.Text("--out", "DIR", "the run folder (default runs/shapes)");
            QuantizeCommand.DeclareRecipe(spec);
            spec.Float("--score", "X", "lowest score printed and drawn, 0..1 (default 0.5)", 0f, 1f);
            spec.Text("--save", "OUT.png", "where the image with the boxes goes (default DIR/<image>.<model>.png)");
            spec.Text("--json", "OUT.json", "also write the detections as json");
        },
        (cl, stdout, stderr) =>
        {
            string imagePath = cl.Required("--image");
            var run = QuantizeCommand.OpenRun(cl);
            string kind = cl.Get("--model") ?? "integer";
            float minScore = cl.Float("--score", 0.5f);
            var info = run.LoadModelInfo();
            var (detect, config, label) = StoredModels.Open(run, kind, QuantizeCommand.Recipe(cl));

            var image = ImageCodec.Load(imagePath);
            var transform = Stages.Transform(config);
            var sample = CocoFolder.FromImage(image, transform);
            var batch = Batcher.Collate([sample]);
            var det = detect(Tensor.FromArray(batch.Data, 1, 3, batch.H, batch.W), [(sample.Height, sample.Width)])[0];

            var found = new List<(XyxyBox Box, int Label, float Score)>();
            for (int j = 0; j < det.Count; j++)
                if (det.Scores[j] >= minScore)
                    found.Add((sample.ToOriginal.Map(new XyxyBox(det.Boxes[4 * j], det.Boxes[4 * j + 1], det.Boxes[4 * j + 2], det.Boxes[4 * j + 3])), det.Labels[j], det.Scores[j]));
            foreach (var (b, l, s) in found)
                stdout.WriteLine($"{info.ClassNames[l],-14} {s:F3}  {b.X1:F1} {b.Y1:F1} {b.X2:F1} {b.Y2:F1}");
            string save = cl.Get("--save") ?? Path.Combine(run.Dir, $"{Path.GetFileNameWithoutExtension(imagePath)}.{label}.png");
            var png = ImageCodec.EncodePng(BoxPainter.Draw(image, found.Select(f => (f.Box, f.Label, f.Score)), info.ClassNames));
            AtomicFile.Write(save, s => s.Write(png));
            stderr.WriteLine($"{found.Count} detections ({label}); boxes drawn to {save}");
            if (cl.Get("--json") is string jsonPath)
                AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(found.Select(f => new
                {
                    category = info.ClassNames[f.Label], score = f.Score, bbox_xyxy = new[] { f.Box.X1, f.Box.Y1, f.Box.X2, f.Box.Y2 },
                })));
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);
}
