using Nanoq.Detection.Integer;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// Compares each integer layer's output codes with the fake-quant model's codes of the same tap and call, then
/// (teacher forcing) hands the reference codes on, so every layer is measured given exactly the reference's input codes.
/// Without forcing it only measures (end to end, where differences compound).
/// </summary>
internal sealed class AgreementHook(Dictionary<string, List<CodeTensor>> reference, bool force) : IIntForwardHook
{
    public sealed class Tally
    {
        public long Elements, Differ;
        public int MaxStep;
        public double Rate => Elements == 0 ? 0 : (double)Differ / Elements;
        public void Add(Tally t) { Elements += t.Elements; Differ += t.Differ; MaxStep = Math.Max(MaxStep, t.MaxStep); }
    }

    public Dictionary<string, Tally> ByLayer { get; } = new(StringComparer.Ordinal);

    /// <summary>A layer whose first call's inputs and output to keep (copies).</summary>
    public string? Capture { get; init; }
    public CodeTensor[]? CapturedInputs { get; private set; }
    public CodeTensor? CapturedOutput { get; private set; }

    public CodeTensor? AfterLayer(IIntUnit layer, int occurrence, IReadOnlyList<CodeTensor> inputs, CodeTensor output)
    {
        if (layer.Name == Capture && occurrence == 0)
        {
            CapturedInputs = inputs.Select(t => t.Clone()).ToArray();
            CapturedOutput = output.Clone();
        }
        var r = reference[layer.Name][occurrence];
        Assert.True(r.SameShape(output), $"{layer.Key}: shape {output.ShapeText} vs reference {r.ShapeText}");
        Assert.Equal(r.ZeroPoint, output.ZeroPoint);
        if (!ByLayer.TryGetValue(layer.Name, out var t)) ByLayer[layer.Name] = t = new Tally();
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
