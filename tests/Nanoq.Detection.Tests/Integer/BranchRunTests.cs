using Nanoq.Autograd;
using Nanoq.Quant;
using Nanoq.Quant.Integer.Program;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>Runs alone: a kernel region only spreads over the threads when no other test holds them.</summary>
[CollectionDefinition(nameof(BranchRunTests), DisableParallelization = true)]
public sealed class BranchRunCollection;

[Collection(nameof(BranchRunTests))]
public class BranchRunTests
{
    /// <summary>
    /// <see cref="IntProgram.RunBranches"/> (independent ops side by side, what a whole-batch run of a program without
    /// side inputs does on several threads) against the program run in order: the same codes bit for bit, at batch 1 and
    /// 3, with one to three threads' arenas, ten runs each (the kernel threads are free here: this class runs alone, so
    /// the ops do go side by side); a program with side inputs (Faster R-CNN) by branches up to its RoIAlign and in order
    /// after it, the same codes; an op's failure comes out.
    /// </summary>
    [Fact]
    public void Ops_run_by_branches_give_the_codes_of_a_run_in_order()
    {
        var net = new QuantizedDetector(QuantizedDetector.Tiny(), 44, liveHeads: true).Convert();
        var program = net.Model.Program;
        Assert.False(program.HasSideInputs);
        foreach (int n in new[] { 1, 3 })
        {
            var codes = net.Model.Quantize(0, QuantizedDetector.Images(new Rng((ulong)(20 + n)), n, 160));
            var inOrder = program.Run([codes]).Select(c => c.Clone()).ToArray();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var arenas = Enumerable.Range(0, threads).Select(_ => new CodeArena()).ToArray();
                for (int repeat = 0; repeat < 10; repeat++)   // arenas reused, as a detector reuses them
                {
                    var branches = program.RunBranches([codes], arenas);
                    Assert.Equal(inOrder.Length, branches.Count);
                    for (int i = 0; i < inOrder.Length; i++)
                    {
                        Assert.Equal(inOrder[i].Shape, branches[i].Shape);
                        Assert.True(inOrder[i].Data.AsSpan().SequenceEqual(branches[i].Data), $"output {i}, batch {n}, {threads} threads");
                    }
                }
            }
        }

        var faster = new Detection.FasterRcnn(FasterRcnn.FasterRcnnTests.Tiny, seed: 5);
        ModelQuantizer.Install(faster, QuantRecipe.Fqn(4));
        var batch = QuantizedDetector.Images(new Rng(71), 2, 64);
        Calibrator.Calibrate(faster, [batch], b => faster.Forward(new Var(b)), 1);
        faster.Eval();
        // With side inputs (Faster R-CNN's RoIs): by branches up to the RoIAlign, in order from there; the host's
        // proposals read the RPN maps the branches wrote.
        var fasterModel = Detectors.Convert(faster, batch).Model;
        var fasterProgram = fasterModel.Program;
        Assert.True(fasterProgram.HasSideInputs);
        var fasterCodes = fasterModel.Quantize(0, batch);
        var fasterInOrder = fasterProgram.Run([fasterCodes], null, faster.IntegerRun(fasterModel, 64, 64).SideInputs).Select(c => c.Clone()).ToArray();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var arenas = Enumerable.Range(0, threads).Select(_ => new CodeArena()).ToArray();
            for (int repeat = 0; repeat < 5; repeat++)
            {
                var branches = fasterProgram.RunBranches([fasterCodes], arenas, faster.IntegerRun(fasterModel, 64, 64).SideInputs);
                Assert.Equal(fasterInOrder.Length, branches.Count);
                for (int i = 0; i < fasterInOrder.Length; i++)
                {
                    Assert.Equal(fasterInOrder[i].Shape, branches[i].Shape);
                    Assert.True(fasterInOrder[i].Data.AsSpan().SequenceEqual(branches[i].Data), $"Faster R-CNN output {i}, {threads} threads");
                }
            }
        }
        Assert.Throws<InvalidOperationException>(() => fasterProgram.RunBranches([fasterCodes], [new CodeArena()]));   // no side inputs

        // x [1, 4], y [1, 2] → add(x, y): the op throws inside a branch thread; the run rethrows it.
        var values = new[] { new IntValue(0, "x", 3, 4), new IntValue(1, "y", 3, 4), new IntValue(2, "s", 3, 4) };
        var p = new Nanoq.Kernels.Integer.QuantizedAddParams(3, 1 << 30, -1, 3, 1 << 30, -1, 1 << 30, -19, 3, 0, 7);
        var add = new IntProgram(values, [0, 1], [new IntAddOp("s", 0, 1, 2, new Nanoq.Quant.Integer.IntAddLayer("s", p))], [2]);
        var e = Assert.Throws<ArgumentException>(() => add.RunBranches([new CodeTensor(new byte[4], [1, 4], 3, 3), new CodeTensor(new byte[2], [1, 2], 3, 3)], [new CodeArena(), new CodeArena()]));
        Assert.Contains("differ in shape", e.Message);
    }
}
