using Nanoq.Autograd;
using Nanoq.Quant;

namespace Nanoq.Detection;

/// <summary>
/// A detector run with integer arithmetic only (DESIGN.md §5): the <see cref="IntegerModel"/> (image → codes, the integer
/// program, codes → reals at the float edges) followed by the detector's own float postprocessing on the dequantized
/// raw outputs — the same code the float and fake-quant models use, so equal output codes give identical detections.
/// <see cref="Detect"/> has the float detector's contract. Made by <see cref="Detectors.Convert"/>; stored as an NQIM
/// file whose metadata names the detector (kind and configuration), so <see cref="Load"/> needs nothing else.
/// </summary>
public sealed class IntegerDetector
{
    public const string KindKey = "detector.kind", ConfigKey = "detector.config";

    public IntegerDetector(IntegerModel model, IDetector postprocess)
    {
        Model = model;
        Detector = postprocess;
    }

    public IntegerModel Model { get; }

    /// <summary>The float detector whose postprocessing (anchors, decoding, NMS) the integer outputs go through; its weights are unused.</summary>
    public IDetector Detector { get; }

    /// <summary>
    /// Normalized images [N, 3, H, W] → the dequantized raw outputs; a two-stage detector (<see cref="IStagedDetector"/>)
    /// supplies the program's side inputs (RoIs) during the run and its state (proposals) with the outputs.
    /// <paramref name="imageSizes"/> as <see cref="IDetector.Forward"/> takes them.
    /// </summary>
    public DetectorOutput Forward(Tensor images, IReadOnlyList<(int Height, int Width)>? imageSizes = null) =>
        Forward(images, imageSizes, DefaultGroups(images.Shape[0]));

    /// <summary>
    /// As <see cref="Forward(Tensor, IReadOnlyList{ValueTuple{int, int}}?)"/>, the batch run as <paramref name="groups"/>
    /// consecutive groups of images side by side (<see cref="IntegerModel.RunGroups"/>; 1: one run of the batch, each kernel
    /// split over the threads). The outputs and the state do not depend on it.
    /// </summary>
    public DetectorOutput Forward(Tensor images, IReadOnlyList<(int Height, int Width)>? imageSizes, int groups)
    {
        int n = images.Shape[0], h = images.Shape[2], w = images.Shape[3];
        if (imageSizes is not null && imageSizes.Count != n) throw new ArgumentException($"IntegerDetector: {imageSizes.Count} image sizes for a batch of {n}.");
        if (Detector is IStagedDetector staged)
        {
            var runs = Enumerable.Range(0, groups).Select(g =>
            {
                var (start, count) = IntegerModel.ImageGroup(n, groups, g);
                return staged.IntegerRun(Model, h, w, imageSizes?.Skip(start).Take(count).ToArray());
            }).ToArray();
            var staging = Model.RunGroups(images, groups, runs.Select(r => r.SideInputs).ToArray());
            var state = groups == 1 ? runs[0].State() : staged.JoinStates(runs.Select(r => r.State()).ToArray());
            return new DetectorOutput(staging.Select(t => new Var(t)).ToArray(), h, w, state);
        }
        var outs = Model.RunGroups(images, groups);
        return new DetectorOutput(outs.Select(t => new Var(t)).ToArray(), h, w);
    }

    /// <summary>
    /// A batch runs as one group of images per kernel thread (<see cref="IntegerModel.RunGroups"/>) when the program allows
    /// it; a single image runs op by op, each kernel split over the threads. Measured with the default RetinaNet at batch 8
    /// on two cores (nanoq bench, 30 runs after 2 s of warm-up, 2026-12-06 17:50, load 1.16–1.18): 7.3–7.5 ms with one
    /// group a thread, 7.7 with two, 7.4 with four (one image each), 9.1–10.9 op by op — smaller groups gain nothing and
    /// lose the batch's tall small-map convs (IntConv2d.RunTall).
    /// </summary>
    private int DefaultGroups(int n) =>
        n >= 2 && Model.Program.KeepsRowsApart ? Math.Min(n, Nanoq.Kernels.ParallelRunner.MaxDegreeOfParallelism) : 1;

    public IReadOnlyList<Detections> Detect(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var o = Forward(images, imageSizes);
        try
        {
            return Detector.Postprocess(o, imageSizes);
        }
        finally
        {
            foreach (var v in o.Outputs) v.Value.Dispose();
        }
    }

    public void Save(string path) => Model.Save(path);

    /// <summary>Reads an NQIM file written by <see cref="Save"/>; the detector is rebuilt from the file's metadata.</summary>
    public static IntegerDetector Load(string path)
    {
        var model = IntegerModel.Load(path);
        if (!model.Metadata.TryGetValue(KindKey, out var kind) || !model.Metadata.TryGetValue(ConfigKey, out var config))
            throw new Quant.Integer.IntModelFormatException(path, $"the metadata does not name the detector (\"{KindKey}\", \"{ConfigKey}\").");
        try
        {
            return new IntegerDetector(model, Detectors.Create(kind, config));
        }
        catch (ArgumentException e)
        {
            throw new Quant.Integer.IntModelFormatException(path, $"the detector in the metadata cannot be built: {e.Message}", e);
        }
    }
}
