using Nanoq.Quant.Integer.Program;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// Compares every op's integer output with the fake-quant model's codes for the same op (<see cref="QuantizedDetector.Reference"/>)
/// and, with <paramref name="force"/>, hands the reference on instead (teacher forcing: each op is measured on the
/// reference's own input codes, so differences do not compound).
/// </summary>
internal sealed class AgreementHook(Dictionary<string, CodeTensor> reference, bool force) : IIntOpHook
{
    public sealed class Tally
    {
        public long Elements, Differ;
        public int MaxStep;
        public double Rate => Elements == 0 ? 0 : (double)Differ / Elements;
        public void Add(Tally t) { Elements += t.Elements; Differ += t.Differ; MaxStep = Math.Max(MaxStep, t.MaxStep); }
    }

    /// <summary>Per op name without its "#k" call suffix (a shared layer's calls pooled).</summary>
    public Dictionary<string, Tally> ByLayer { get; } = new(StringComparer.Ordinal);

    public string? Capture { get; init; }
    public CodeTensor[]? CapturedInputs { get; private set; }
    public CodeTensor? CapturedOutput { get; private set; }

    public CodeTensor? AfterOp(IntOp op, IReadOnlyList<CodeTensor> inputs, CodeTensor output)
    {
        if (op.Name == Capture)
        {
            CapturedInputs = inputs.Select(t => t.Clone()).ToArray();
            CapturedOutput = output.Clone();
        }
        var r = reference[op.Name];
        Assert.True(r.SameShape(output), $"{op.Name}: shape {output.ShapeText} vs reference {r.ShapeText}");
        Assert.Equal(r.ZeroPoint, output.ZeroPoint);
        string layer = op.Name.Split('#')[0];
        if (!ByLayer.TryGetValue(layer, out var t)) ByLayer[layer] = t = new Tally();
        for (int i = 0; i < r.Length; i++)
        {
            int d = Math.Abs(r.Data[i] - output.Data[i]);
            if (d != 0) t.Differ++;
            t.MaxStep = Math.Max(t.MaxStep, d);
        }
        t.Elements += r.Length;
        return force ? r.Clone() : null;
    }

    public Tally Total(Func<string, bool> which)
    {
        var sum = new Tally();
        foreach (var (name, t) in ByLayer) if (which(name)) sum.Add(t);
        return sum;
    }
}
