using Nanoq.Cli.Terminal;
using Nanoq.Coco;
using Nanoq.Coco.Data;
using Nanoq.Coco.Evaluation;
using Nanoq.Detection;

namespace Nanoq.Cli.Pipeline;

/// <summary>Runs a detector over a COCO folder and evaluates its detections with the pycocotools-exact evaluator.</summary>
public static class DetectorEvaluation
{
    /// <summary>
    /// <paramref name="detect"/> maps a padded batch [N, 3, H, W] and the images' own sizes to detections in
    /// transformed-image pixels; they are mapped back to the original images for COCO. <paramref name="cancel"/> is
    /// checked between batches: Ctrl-C ends the evaluation with "evaluation interrupted" (the CLI's exit 130).
    /// </summary>
    public static (CocoEvalResult Result, IReadOnlyList<CocoResult> Detections) Evaluate(
        Func<Tensor, IReadOnlyList<(int Height, int Width)>, IReadOnlyList<Detections>> detect,
        CocoFolder val, TransformOptions transform, int batchSize, TextWriter log, string label, CancellationToken cancel = default)
    {
        var loader = new CocoDataLoader(val, transform with { FlipProbability = 0 }, batchSize, shuffle: false, seed: 0);
        var results = new CocoResultsBuilder(val.Categories);
        var bar = new ProgressBar(log, label, loader.BatchesPerEpoch, "batch");
        int b = 0;
        foreach (var batch in loader.Epoch(0))
        {
            if (cancel.IsCancellationRequested)
            {
                batch.Dispose();
                bar.Stop();
                throw new OperationCanceledException($"{label}: interrupted after {b} of {loader.BatchesPerEpoch} batches; nothing written", cancel);
            }
            var sizes = batch.Samples.Select(s => (s.Height, s.Width)).ToArray();
            var dets = detect(Tensor.FromArray(batch.Data, batch.N, batch.C, batch.H, batch.W), sizes);
            for (int i = 0; i < batch.N; i++)
            {
                var d = dets[i];
                var boxes = new XyxyBox[d.Count];
                for (int j = 0; j < d.Count; j++) boxes[j] = new XyxyBox(d.Boxes[4 * j], d.Boxes[4 * j + 1], d.Boxes[4 * j + 2], d.Boxes[4 * j + 3]);
                results.Add(batch.Samples[i], boxes, d.Labels, d.Scores);
            }
            batch.Dispose();
            bar.Report(++b);
        }
        bar.Stop();
        // A model with its own category ids (imported from torchvision) may detect categories the ground truth lacks;
        // pycocotools evaluates the ground truth's categories only, so dropping those detections changes no number.
        var known = val.Dataset.Categories.Select(c => c.Id).ToHashSet();
        var kept = results.Results.Where(r => known.Contains(r.CategoryId)).ToList();
        if (kept.Count < results.Results.Count)
            log.WriteLine($"{label}: {results.Results.Count - kept.Count} detections of categories the ground truth does not have are not evaluated");
        return (CocoEvaluator.Evaluate(val.Dataset, kept), kept);
    }
}
