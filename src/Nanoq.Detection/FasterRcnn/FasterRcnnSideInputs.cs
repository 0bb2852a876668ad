using Nanoq.Autograd;
using Nanoq.Quant;
using Nanoq.Quant.Integer.Program;

namespace Nanoq.Detection;

/// <summary>
/// Faster R-CNN's host side of an integer run (<see cref="IStagedDetector"/>): when the program reaches its RoIAlign op,
/// the RPN maps (program outputs 0..2L−1, already computed) are dequantized, proposals are computed in float exactly as
/// the float model does at test time (<see cref="FasterRcnn.Propose(IReadOnlyList{Var}, IReadOnlyList{Var}, int, int, RpnProposalFilter)"/>),
/// assigned to pyramid levels, and planned for the integer kernel (<see cref="MultiScaleRoiAlign.BuildPlans"/>). The
/// proposals are kept for the postprocess.
/// </summary>
internal sealed class FasterRcnnSideInputs(FasterRcnn detector, IntegerModel model, int height, int width,
                                           IReadOnlyList<(int Height, int Width)>? imageSizes) : IIntSideInputs
{
    public float[][]? Proposals { get; private set; }

    public IntRoiAlignSideInput RoiAlign(IntRoiAlignOp op, IReadOnlyList<CodeTensor?> values)
    {
        int l = detector.Fpn.NumLevels;
        var outs = model.Program.Outputs;
        if (outs.Count != 2 * l + 2)
            throw new InvalidOperationException($"FasterRcnn: the integer program has {outs.Count} outputs; a Faster R-CNN of {l} RPN levels has {2 * l + 2}.");
        Var Read(int id) => new(model.DequantizeValue(id, values[id] ?? throw new InvalidOperationException(
            $"FasterRcnn: RPN output value {id} is not computed before '{op.Name}'; the program is not a Faster R-CNN's.")));
        var obj = Enumerable.Range(0, l).Select(i => Read(outs[i])).ToArray();
        var del = Enumerable.Range(0, l).Select(i => Read(outs[l + i])).ToArray();
        try
        {
            Proposals = detector.Propose(obj, del, height, width, detector.TestProposalFilter, imageSizes);
        }
        finally
        {
            foreach (var v in obj.Concat(del)) v.Value.Dispose();   // the dequantized maps back to the tensor pool
        }
        var levelCodes = op.Inputs.Select(id => values[id] ?? throw new InvalidOperationException($"FasterRcnn: '{op.Name}' reads value {id} before it is computed.")).ToArray();
        var featureSizes = levelCodes.Select(c => (c.Height, c.Width)).ToArray();
        var sizes = Enumerable.Repeat((height, width), Proposals.Length).ToArray();
        var levels = detector.Pooler.AssignLevels(Proposals, featureSizes, sizes);
        var plans = detector.Pooler.BuildPlans(levels, featureSizes, levelCodes[0].Batch);
        var rows = featureSizes.Length == 1 ? [Enumerable.Range(0, levels.Count).ToArray()] : levels.PerLevel;
        return new IntRoiAlignSideInput(levels.Count, plans, rows);
    }
}
