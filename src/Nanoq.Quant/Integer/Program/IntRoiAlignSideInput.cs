using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// The RoIs of one <see cref="IntRoiAlignOp"/> run: <see cref="NumRois"/> K rows in all; per input level l,
/// <see cref="Plans"/>[l] pools that level's RoIs and <see cref="Rows"/>[l] says which output row each one fills
/// (torchvision's MultiScaleRoIAlign order: the RoIs' own order, whatever their level). Every row 0..K−1 is filled by
/// exactly one level. <see cref="IntProgram.Run(IReadOnlyList{CodeTensor}, CodeArena, IIntOpHook?, IIntSideInputs?)"/> disposes
/// it once the op has run, which returns the planner's pooled arrays (<see cref="IntRoiAlignPlan.Dispose"/>).
/// </summary>
public sealed record IntRoiAlignSideInput(int NumRois, IReadOnlyList<IntRoiAlignPlan> Plans, IReadOnlyList<int[]> Rows) : IDisposable
{
    public void Dispose()
    {
        foreach (var plan in Plans) plan.Dispose();
    }
}
