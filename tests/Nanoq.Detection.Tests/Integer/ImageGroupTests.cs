using Nanoq.Autograd;
using Nanoq.Quant;
using Nanoq.Quant.Integer.Program;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// A batch run as consecutive groups of images (<see cref="IntegerModel.RunGroups"/>, what <see cref="IntegerDetector"/>
/// does on several cores) against one run of the whole batch: the same outputs bit for bit, for every number of groups,
/// even and uneven — RetinaNet, and Faster R-CNN, whose RoIs, RoIAlign rows and proposals come from each group's host side.
/// </summary>
public class ImageGroupTests
{
    [Fact]
    public void RetinaNet_outputs_do_not_depend_on_the_groups()
    {
        var net = new QuantizedDetector(QuantizedDetector.Tiny(), 43, liveHeads: true).Convert();
        var images = QuantizedDetector.Images(new Rng(11), 5, 64);
        var whole = Outputs(net.Forward(images, null, 1));
        foreach (int groups in new[] { 2, 3, 5 })
            AssertSame(whole, Outputs(net.Forward(images, null, groups)), $"{groups} groups");
    }

    [Fact]
    public void FasterRcnn_outputs_and_proposals_do_not_depend_on_the_groups()
    {
        var model = new Detection.FasterRcnn(FasterRcnn.FasterRcnnTests.Tiny, seed: 5);
        ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        var batches = Enumerable.Range(0, 2).Select(i => QuantizedDetector.Images(new Rng((ulong)(70 + i)), 2, 64)).ToList();
        Calibrator.Calibrate(model, batches, b => model.Forward(new Var(b)), batches.Count);
        model.Eval();
        var net = Detectors.Convert(model, batches[0]);
        var images = QuantizedDetector.Images(new Rng(12), 3, 64);
        (int, int)[] sizes = [(64, 64), (48, 64), (64, 40)];   // proposals clip to each image's own size

        var one = net.Forward(images, sizes, 1);
        var whole = Outputs(one);
        var proposals = Assert.IsType<FasterRcnnState>(one.State).Proposals;
        Assert.True(proposals.Sum(p => p.Length) > 0);
        foreach (int groups in new[] { 2, 3 })
        {
            var split = net.Forward(images, sizes, groups);
            AssertSame(whole, Outputs(split), $"{groups} groups");
            var joined = Assert.IsType<FasterRcnnState>(split.State).Proposals;
            Assert.Equal(proposals.Count, joined.Count);
            for (int i = 0; i < proposals.Count; i++) Assert.Equal(proposals[i], joined[i]);
        }
    }

    [Fact]
    public void Ops_that_move_rows_are_flagged_and_RunGroups_refuses_their_programs()
    {
        Assert.False(new IntConcatOp("c", [0, 1], 2, axis: 0).KeepsRowsApart);
        Assert.True(new IntConcatOp("c", [0, 1], 2, axis: 1).KeepsRowsApart);
        Assert.False(new IntFlattenOp("f", 0, 1, startAxis: 0).KeepsRowsApart);
        Assert.True(new IntFlattenOp("f", 0, 1, startAxis: 1).KeepsRowsApart);
        Assert.False(new IntSliceOp("s", 0, 1, axis: 0, start: 0, length: 1, inputLength: 2).KeepsRowsApart);

        // x [N, 4] → concat(x, x) along the batch: rows of one image land in another's place.
        var values = new[] { new IntValue(0, "x", 3, 4), new IntValue(1, "y", 3, 4) };
        var program = new IntProgram(values, [0], [new IntConcatOp("stack", [0, 0], 1, axis: 0)], [1]);
        var model = new IntegerModel(program, [0.1f, 0.1f]);
        var x = Tensor.Zeros(2, 4);
        Assert.Equal([4, 4], model.Run(x)[0].Shape.ToArray());
        Assert.Equal([4, 4], model.RunGroups(x, 1)[0].Shape.ToArray());   // one group is one run: any program
        var e = Assert.Throws<InvalidOperationException>(() => model.RunGroups(x, 2));
        Assert.Contains("'stack'", e.Message);
    }

    private static Tensor[] Outputs(DetectorOutput o) => o.Outputs.Select(v => v.Value).ToArray();

    private static void AssertSame(Tensor[] want, Tensor[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            Assert.Equal(want[i].Shape, got[i].Shape);
            var a = want[i].Span;
            var b = got[i].Span;
            for (int j = 0; j < a.Length; j++)
                if (BitConverter.SingleToInt32Bits(a[j]) != BitConverter.SingleToInt32Bits(b[j]))
                    Assert.Fail($"{what}: output {i} element {j} is {b[j]}, one run of the batch gave {a[j]}.");
        }
    }
}
