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
    /// detector's postprocess needs (the proposals).
    /// </summary>
    (IIntSideInputs SideInputs, Func<object?> State) IntegerRun(IntegerModel model, int height, int width);
}
