using Nanoq.Quant;
using Nanoq.Quant.Integer.Program;

namespace Nanoq.Detection;

/// <summary>
/// A detector whose integer program needs the host mid-run (DESIGN.md §5, "Edges"): a two-stage detector's RoIAlign
/// takes its RoIs as a side input, computed in float from the dequantized first-stage outputs as its postprocessing
/// would. <see cref="IntegerDetector"/> asks for one such host per run.
/// </summary>
public interface IStagedDetector
{
    /// <summary>
    /// The host side of one run of <paramref name="model"/> (converted from this detector) on images of this padded size:
    /// the side inputs the program asks for, and, once the run is over, the <see cref="DetectorOutput.State"/> the
    /// detector's postprocess needs (the proposals). <paramref name="imageSizes"/>: each image's own size, as
    /// <see cref="IDetector.Forward"/> takes it.
    /// </summary>
    (IIntSideInputs SideInputs, Func<object?> State) IntegerRun(IntegerModel model, int height, int width,
                                                               IReadOnlyList<(int Height, int Width)>? imageSizes = null);

    /// <summary>
    /// The state of a batch run as consecutive groups of images (<see cref="IntegerModel.RunGroups"/>), from the groups'
    /// states in order: what one run of the whole batch would have given.
    /// </summary>
    object? JoinStates(IReadOnlyList<object?> states);

    /// <summary>
    /// images [N, 3, H, W] → the convolutional first stage only, everything before the host's box geometry: what a
    /// runtime without the host (an ONNX export) can run. Faster R-CNN: the RPN maps and the pyramid levels RoIAlign reads.
    /// </summary>
    IReadOnlyList<Autograd.Var> FirstStage(Autograd.Var images);
}
