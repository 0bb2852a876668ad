using Nanoq.Autograd;
using Nanoq.Quant.Integer.Program;

namespace Nanoq.Tests.Program;

/// <summary>
/// The slice op (an imported graph's crop of the row and column that symmetric padding adds): traced from
/// <c>Fn.Slice</c>, it copies the elements a naive loop picks, explains its source element, reads back from the file, and
/// refuses an input of another length along its axis.
/// </summary>
public class IntSliceOpTests
{
    [Theory]
    [InlineData(2, 0, 5)]
    [InlineData(3, 1, 4)]
    [InlineData(1, 2, 1)]
    public void Slices_as_a_naive_loop_explains_and_reads_back(int axis, int start, int length)
    {
        int[] shape = [2, 3, 6, 5];
        var data = new byte[shape.Aggregate(1, (a, b) => a * b)];
        var rng = new Rng(4);
        for (int i = 0; i < data.Length; i++) data[i] = (byte)rng.NextInt(16);
        var x = new CodeTensor(data, shape, 3, 4);
        var op = new IntSliceOp("slice", 0, 1, axis, start, length, shape[axis]);
        var y = op.Run([x], new IntValue(1, "slice", 3, 4), new CodeArena());

        var want = (int[])shape.Clone();
        want[axis] = length;
        Assert.Equal(want, y.Shape);
        for (int f = 0; f < y.Length; f++)
        {
            var at = y.IndexAt(f);
            var src = (int[])at.Clone();
            src[axis] += start;
            Assert.Equal(x[src], y.Data[f]);
        }
        Assert.Contains($"= {x[Source(y.IndexAt(y.Length - 1), axis, start)]} (a copy)", op.Explain([x], y.IndexAt(y.Length - 1)));

        var program = new IntProgram([new IntValue(0, "x", 3, 4), new IntValue(1, "slice", 3, 4)], [0], [op], [1]);
        var file = Nanoq.Quant.Integer.IntModelFile.ToBytes(IntProgramFormat.ToModel(program));
        var back = Assert.IsType<IntSliceOp>(IntProgramFormat.FromModel(Nanoq.Quant.Integer.IntModelFile.FromBytes(file, "mem"), "mem").Ops[0]);
        Assert.Equal((axis, start, length, shape[axis]), (back.Axis, back.Start, back.Length, back.InputLength));

        var other = (int[])shape.Clone();
        other[axis] += 1;
        var e = Assert.Throws<ArgumentException>(() => op.Run([new CodeTensor(new byte[other.Aggregate(1, (a, b) => a * b)], other, 3, 4)], new IntValue(1, "slice", 3, 4), new CodeArena()));
        Assert.Contains("convert at the size you run", e.Message);
    }

    private static int[] Source(int[] at, int axis, int start)
    {
        var s = (int[])at.Clone();
        s[axis] += start;
        return s;
    }

    [Fact]
    public void Fn_slice_reports_itself_to_the_trace()
    {
        var seen = new List<(string Op, int[] Attributes)>();
        using (OpTrace.Record(new Recorder(seen)))
            Fn.Slice(new Var(Tensor.Zeros(1, 2, 5, 5)), 3, 0, 4);
        Assert.Equal("slice", Assert.Single(seen).Op);
        Assert.Equal([3, 0, 4], seen[0].Attributes);
    }

    private sealed class Recorder(List<(string, int[])> seen) : IOpRecorder
    {
        public void Op(string op, IReadOnlyList<Var> inputs, Var output, int[] attributes, object? layer) => seen.Add((op, attributes));
    }
}
