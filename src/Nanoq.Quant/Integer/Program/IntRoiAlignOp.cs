using System.Text.Json;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// Multi-scale RoIAlign on codes, then onto the grid of the activation site that quantizes the pooled RoI features
/// (torchvision's MultiScaleRoIAlign; FQN quantizes "the RoIAlign outputs"). Inputs: the L pyramid levels
/// [N, C, H_l, W_l], each on its own grid (Δ_l, z_l); the RoIs, their levels and the integer pooling plans come from the
/// host as a side input (<see cref="IIntSideInputs"/>, <see cref="IntRoiAlignSideInput"/>), so the program's structure
/// does not depend on how many RoIs fall on each level. Per level:
/// <code>
///   acc = Σ_taps W · (q_l − z_l)                         int32, W in Q22: acc · Δ_l / 2^22 is the float RoIAlign's value
///   y   = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M_l), 0, 2^k − 1),   M_l = Δ_l / (Δ_y · 2^22)
/// </code>
/// scattered to the RoIs' rows of y [K, C, PH, PW]. One rounding, as the fake-quant model rounds the float RoIAlign of
/// the dequantized levels once at the site's quantizer: the codes differ only where the weights' Q22 error or the
/// multiplier's straddles a rounding boundary (rates in the agreement tests). Integers only.
/// </summary>
public sealed class IntRoiAlignOp : IntOp
{
    private readonly Requantization[] _requant;

    /// <param name="levelZeroPoints">z_l of each input level.</param>
    /// <param name="requant">per level, the per-tensor requantization of level l's Q22 accumulators to the output's grid (M_l = Δ_l / (Δ_y · 2^22)).</param>
    public IntRoiAlignOp(string name, int[] levels, int output, int pooledH, int pooledW, int samplingRatio, int[] levelZeroPoints, Requantization[] requant)
        : base(name, levels, output)
    {
        if (levels.Length == 0 || levelZeroPoints.Length != levels.Length || requant.Length != levels.Length)
            throw new ArgumentException($"{name}: {levels.Length} levels, {levelZeroPoints.Length} zero points, {requant.Length} requantizations.");
        foreach (var rq in requant)
            if (rq.Channels != 1) throw new ArgumentException($"{name}: the requantizations must be per tensor.");
        PooledH = pooledH;
        PooledW = pooledW;
        SamplingRatio = samplingRatio;
        LevelZeroPoints = levelZeroPoints;
        _requant = requant;
    }

    public override string Kind => "roialign";
    public int PooledH { get; }
    public int PooledW { get; }

    /// <summary>Recorded for the plans' builder (the host) and for people; the op itself reads only the plans.</summary>
    public int SamplingRatio { get; }

    public int[] LevelZeroPoints { get; }
    public IReadOnlyList<Requantization> Requant => _requant;

    /// <summary>RoIAlign needs its RoIs: run it through <see cref="IntProgram.Run"/> with side inputs.</summary>
    public override CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntValue output, CodeArena arena) =>
        throw new InvalidOperationException($"{Name}: RoIAlign needs its RoIs as a side input (IntProgram.Run with an IIntSideInputs).");

    /// <summary>inputs: the L levels [N, C, H_l, W_l] → [K, C, PH, PW] on <paramref name="output"/>'s grid.</summary>
    public CodeTensor Run(IReadOnlyList<CodeTensor> inputs, IntRoiAlignSideInput side, IntValue output, CodeArena arena)
    {
        ArgumentNullException.ThrowIfNull(side);
        if (side.Plans.Count != inputs.Count || side.Rows.Count != inputs.Count)
            throw new ArgumentException($"{Name}: {inputs.Count} levels but {side.Plans.Count} plans and {side.Rows.Count} row lists.");
        int n = inputs[0].Batch, c = inputs[0].Channels, k = side.NumRois;
        var filled = new bool[k];
        for (int l = 0; l < inputs.Count; l++)
        {
            var x = inputs[l];
            CheckGrid(x, LevelZeroPoints[l], 8, $"level {l}");
            var plan = side.Plans[l];
            if (x.Rank != 4 || x.Batch != n || x.Channels != c || plan.Height != x.Height || plan.Width != x.Width || plan.PooledH != PooledH || plan.PooledW != PooledW)
                throw new ArgumentException($"{Name}: level {l} {x} does not fit its plan ({plan.Height}x{plan.Width} → {plan.PooledH}x{plan.PooledW}) or the first level's [N = {n}, C = {c}].");
            foreach (int r in side.Rows[l])
            {
                if ((uint)r >= (uint)k || filled[r]) throw new ArgumentException($"{Name}: output row {r} of {k} is filled twice or lies outside.");
                filled[r] = true;
            }
        }
        for (int r = 0; r < k; r++)
            if (!filled[r]) throw new ArgumentException($"{Name}: output row {r} of {k} is filled by no level.");
        var y = arena.Rent([k, c, PooledH, PooledW], output.ZeroPoint, output.Bits);
        for (int l = 0; l < inputs.Count; l++)
            if (side.Rows[l].Length > 0)
                IntRoiAlign.Requantize(side.Plans[l], inputs[l].Data, n, c, LevelZeroPoints[l], _requant[l], y.Data, side.Rows[l]);
        return y;
    }

    public override string Explain(IReadOnlyList<CodeTensor> inputs, int[] index) =>
        $"roialign output [{string.Join(", ", index)}]: a Q22 accumulator Σ W·(q − z) over its level's codes, requantized once to this op's grid (IntRoiAlign.Requantize) " +
        $"with the level's multiplier Δ_l / (Δ_y·2^22) (levels' zero points {string.Join(", ", LevelZeroPoints)}); the RoIs come from the host's side input.";

    public override void WriteAttributes(Utf8JsonWriter w)
    {
        w.WriteNumber("pooled_h", PooledH);
        w.WriteNumber("pooled_w", PooledW);
        w.WriteNumber("sampling_ratio", SamplingRatio);
        w.WriteString("rounding", _requant[0].Rounding.ToString());
        w.WriteString("accumulator", "q22");
        w.WriteStartArray("levels");
        for (int l = 0; l < _requant.Length; l++)
        {
            var rq = _requant[l];
            w.WriteStartObject();
            w.WriteNumber("zero_point", LevelZeroPoints[l]);
            w.WriteNumber("multiplier", rq.Multiplier(0));
            w.WriteNumber("shift", rq.Shift(0));
            w.WriteNumber("clamp_min", rq.ClampMin);
            w.WriteNumber("clamp_max", rq.ClampMax);
            w.WriteNumber("output_zero_point", rq.OutputZeroPoint);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>The op from its JSON attributes (<see cref="WriteAttributes"/>).</summary>
    public static IntRoiAlignOp Read(string name, int[] inputs, int output, JsonElement o)
    {
        if (!Enum.TryParse<RequantRounding>(LayerJson.String(o, "rounding"), out var rounding))
            throw new FormatException($"op '{name}' has an unknown rounding.");
        // Files from before the single rounding requantized rounded level codes with M_l = Δ_l / Δ_y: refuse them.
        if (!o.TryGetProperty("accumulator", out var a) || a.ValueKind != JsonValueKind.String || a.GetString() != "q22")
            throw new FormatException($"op '{name}' requantizes rounded level codes (a file from before RoIAlign rounded once); convert the model again.");
        if (!o.TryGetProperty("levels", out var lv) || lv.ValueKind != JsonValueKind.Array) throw new FormatException($"op '{name}' has no \"levels\" array.");
        var zs = new List<int>();
        var rqs = new List<Requantization>();
        foreach (var e in lv.EnumerateArray())
        {
            zs.Add(LayerJson.Int(e, "zero_point", name));
            rqs.Add(Requantization.PerTensor(LayerJson.Int(e, "multiplier", name), LayerJson.Int(e, "shift", name), LayerJson.Int(e, "output_zero_point", name),
                                             LayerJson.Int(e, "clamp_min", name), LayerJson.Int(e, "clamp_max", name), rounding));
        }
        return new IntRoiAlignOp(name, inputs, output, LayerJson.Int(o, "pooled_h", name), LayerJson.Int(o, "pooled_w", name),
                                 LayerJson.Int(o, "sampling_ratio", name), zs.ToArray(), rqs.ToArray());
    }
}
