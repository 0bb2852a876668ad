namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// The host's side of a program run for ops that need more than codes (DESIGN.md §5, "Edges"): box geometry is not a
/// feature value, so the RoIs of an <see cref="IntRoiAlignOp"/> come from outside the program — e.g. a two-stage
/// detector dequantizes its RPN outputs from <paramref name="values"/>, computes proposals in float as its
/// postprocessing would, and plans the pooling (<see cref="Kernels.Integer.IntRoiAlignPlan"/>: integer taps and weights).
/// Float is allowed here (this is the edge, not the runtime); the op itself consumes only the integer plan.
/// </summary>
public interface IIntSideInputs
{
    /// <summary>A fresh side input for each call: the program disposes it once the op has run (returning its plans' pooled arrays).</summary>
    /// <param name="op">the op about to run.</param>
    /// <param name="values">every value of the program by id: the codes written so far, null for those not yet written.</param>
    IntRoiAlignSideInput RoiAlign(IntRoiAlignOp op, IReadOnlyList<CodeTensor?> values);
}
