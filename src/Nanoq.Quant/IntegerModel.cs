using System.Globalization;
using Nanoq.Quant.Integer;
using Nanoq.Quant.Integer.Program;
using Nanoq.Quant.Kernels;

namespace Nanoq.Quant;

/// <summary>
/// An integer-only model as deployed (DESIGN.md §5): the <see cref="IntProgram"/> between its two float edges, which are
/// the only float operations of inference —
/// <list type="number">
/// <item><see cref="Quantize"/>: each input (the normalized image) → codes, once, with the fake-quant model's input
/// quantizer and the very kernel fake quantization uses, x_q = clamp(round(x·(1/Δ)) + z, 0, 2^k − 1);</item>
/// <item><see cref="Dequantize"/>: output codes → reals, x̂ = (q − z)·Δ, one float32 product — the value fake quantization
/// gives for code q, so equal codes give bit-identical outputs to the fake-quant model's.</item>
/// </list>
/// The Δ of every value is kept (the edges need the inputs' and outputs'; the rest is for people and audits) and stored
/// as file metadata "scale.&lt;value id&gt;"; the program itself never reads them. Saved and loaded as an NQIM file
/// (versioned, checksummed, 4-bit codes two per byte). One run at a time per instance.
/// </summary>
public sealed class IntegerModel
{
    private const string ScalePrefix = "scale.";
    private readonly float[] _scales;
    private readonly Dictionary<int, byte[]> _inputCodes = new(); // Run reuses each input's code buffer (steady state allocates nothing large)
    private readonly List<CodeArena> _groupArenas = new();        // RunGroups: each group's arena and input codes, reused
    private readonly List<byte[]> _groupCodes = new();
    private CodeArena[] _branchArenas = [];                       // RunGroups with one group, by branches: one arena a thread

    public IntegerModel(IntProgram program, float[] scales, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (scales.Length != program.Values.Count)
            throw new ArgumentException($"IntegerModel: {scales.Length} scales for {program.Values.Count} values.");
        foreach (var s in scales)
            if (!(s > 0f) || !float.IsFinite(s)) throw new ArgumentException($"IntegerModel: scale {s} is not positive and finite.");
        Program = program;
        _scales = scales;
        Metadata = metadata is null ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(metadata.Where(kv => !kv.Key.StartsWith(ScalePrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
    }

    public IntProgram Program { get; }

    /// <summary>Free-form string metadata stored with the model (e.g. the detector's description).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The real grid (Δ, z, k) of value <paramref name="id"/>.</summary>
    public QParams Grid(int id)
    {
        var v = Program.Values[id];
        return new QParams(_scales[id], v.ZeroPoint, v.Bits);
    }

    /// <summary>The float edge in: input <paramref name="input"/> [N, …] → codes on its grid (in a fresh array, or in <paramref name="buffer"/> when it has the right length).</summary>
    public CodeTensor Quantize(int input, Tensor x, byte[]? buffer = null)
    {
        var q = Grid(Program.Inputs[input]);
        var codes = buffer is not null && buffer.Length == x.Size ? buffer : new byte[x.Size];
        FakeQuantKernels.Quantize(x.Span, q.Scale, q.ZeroPoint, q.QMax, codes);
        return new CodeTensor(codes, x.Shape.ToArray(), q.ZeroPoint, q.Bits);
    }

    /// <summary>The float edge out: output <paramref name="output"/>'s codes → reals.</summary>
    public Tensor Dequantize(int output, CodeTensor codes) => DequantizeValue(Program.Outputs[output], codes);

    /// <summary>Float inputs → float outputs, integer arithmetic in between.</summary>
    public Tensor[] Run(params Tensor[] inputs) => Run(null, inputs);

    /// <summary>As <see cref="Run(Tensor[])"/>, with the host's side inputs for ops that need them (RoIAlign's RoIs).</summary>
    public Tensor[] Run(IIntSideInputs? sideInputs, params Tensor[] inputs) => Dequantize(Program.Run(QuantizeInputs(inputs), null, sideInputs));

    /// <summary>
    /// One run of the whole batch: by branches on the kernel threads (<see cref="IntProgram.RunBranches"/>) when there are
    /// several threads, else in order (<see cref="Run(IIntSideInputs?, Tensor[])"/>). The same outputs either way.
    /// </summary>
    private Tensor[] RunWhole(Tensor images, IIntSideInputs? sideInputs)
    {
        int threads = Nanoq.Kernels.ParallelRunner.MaxDegreeOfParallelism;
        if (threads < 2) return Run(sideInputs, images);
        if (_branchArenas.Length != threads) _branchArenas = [.. Enumerable.Range(0, threads).Select(_ => new CodeArena())];
        return Dequantize(Program.RunBranches(QuantizeInputs([images]), _branchArenas, sideInputs));
    }

    /// <summary>Every input to codes, each in its reused buffer (a steady state allocates nothing large).</summary>
    private CodeTensor[] QuantizeInputs(Tensor[] inputs)
    {
        var codes = new CodeTensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            codes[i] = Quantize(i, inputs[i], _inputCodes.GetValueOrDefault(i));
            _inputCodes[i] = codes[i].Data;
        }
        return codes;
    }

    private Tensor[] Dequantize(IReadOnlyList<CodeTensor> outputs) => [.. outputs.Select((c, i) => Dequantize(i, c))];

    /// <summary>
    /// As <see cref="Run(IIntSideInputs?, Tensor[])"/> for a one-input program over a batch of images [N, …], run as
    /// <paramref name="groups"/> consecutive groups of images side by side on the kernel threads: each group goes through
    /// the whole program on one thread, in its own arena, its kernels on that thread (and on a thread whose groups are done:
    /// it lends itself to the last groups' kernels, <see cref="Nanoq.Kernels.ParallelRunner"/>). Why: on a few cores a batch splits better
    /// by images than op by op — no hand-off between ops (a kernel worker woken from sleep costs 50–70 µs here) and no
    /// image's activations moving between cores' caches. Same codes row for row as one run of the batch, since every op
    /// keeps rows apart (<see cref="IntProgram.KeepsRowsApart"/>, checked); each output is the groups' outputs joined
    /// along its first axis (images, or RoIs in image order). <paramref name="sideInputs"/>: each group's side inputs
    /// (the group's images: <see cref="ImageGroup"/>). 1 ≤ <paramref name="groups"/> ≤ N; one group is one run of the
    /// batch, for any program (by branches where it can: <see cref="RunWhole"/>).
    /// </summary>
    public Tensor[] RunGroups(Tensor images, int groups, IReadOnlyList<IIntSideInputs?>? sideInputs = null)
    {
        int n = images.Shape[0];
        if (sideInputs is not null && sideInputs.Count != groups) throw new ArgumentException($"IntegerModel.RunGroups: {sideInputs.Count} side inputs for {groups} groups.");
        if (groups == 1) return RunWhole(images, sideInputs?[0]);
        if (groups < 1 || groups > n) throw new ArgumentOutOfRangeException(nameof(groups), groups, $"IntegerModel.RunGroups: 1 to {n} groups for a batch of {n}.");
        if (Program.Inputs.Count != 1) throw new InvalidOperationException($"IntegerModel.RunGroups: the program has {Program.Inputs.Count} inputs; it splits one batch of images.");
        if (!Program.KeepsRowsApart)
            throw new InvalidOperationException($"IntegerModel.RunGroups: op '{Program.Ops.First(o => !o.KeepsRowsApart).Name}' mixes rows of the batch, so the program cannot run by groups of images.");

        while (_groupArenas.Count < groups) { _groupArenas.Add(new CodeArena()); _groupCodes.Add([]); }
        var outs = new IReadOnlyList<CodeTensor>[groups];
        Nanoq.Kernels.WorkSplit.Tasks(groups, g =>
        {
            var (start, count) = ImageGroup(n, groups, g);
            var codes = Quantize(0, images.Slice(start, count), _groupCodes[g]);
            _groupCodes[g] = codes.Data;
            outs[g] = Program.Run([codes], _groupArenas[g], null, sideInputs?[g]);
        });

        var result = new Tensor[Program.Outputs.Count];
        for (int i = 0; i < result.Length; i++)
        {
            var shape = outs[0][i].Shape.ToArray();
            for (int g = 1; g < groups; g++)
            {
                var other = outs[g][i].Shape;
                if (other.Length != shape.Length || !other.AsSpan(1).SequenceEqual(shape.AsSpan(1)))
                    throw new InvalidOperationException($"IntegerModel.RunGroups: output {i} of group {g} is {outs[g][i].ShapeText}, of group 0 {outs[0][i].ShapeText}.");
                shape[0] += other[0];
            }
            var grid = Grid(Program.Outputs[i]);
            var t = Tensor.Empty(shape);
            int offset = 0;
            for (int g = 0; g < groups; g++)
            {
                var codes = outs[g][i].Data;
                FakeQuantKernels.Dequantize(codes, grid.Scale, grid.ZeroPoint, t.Span.Slice(offset, codes.Length));
                offset += codes.Length;
            }
            result[i] = t;
        }
        return result;
    }

    /// <summary>Group <paramref name="g"/> of <paramref name="groups"/> near-equal consecutive groups of <paramref name="images"/> images.</summary>
    public static (int Start, int Count) ImageGroup(int images, int groups, int g)
    {
        int start = (int)((long)images * g / groups);
        return (start, (int)((long)images * (g + 1) / groups) - start);
    }

    /// <summary>Any value's codes → reals, x̂ = (q − z)·Δ (a host reading a value mid-run, e.g. for side inputs).</summary>
    public Tensor DequantizeValue(int id, CodeTensor codes)
    {
        var q = Grid(id);
        var t = Tensor.Empty(codes.Shape);
        FakeQuantKernels.Dequantize(codes.Data, q.Scale, q.ZeroPoint, t.Span);
        return t;
    }

    /// <summary>The output codes for float inputs (copies).</summary>
    public CodeTensor[] RunCodes(params Tensor[] inputs) =>
        Program.Run(inputs.Select((x, i) => Quantize(i, x)).ToArray()).Select(c => c.Clone()).ToArray();

    /// <summary>Writes the NQIM file (atomically).</summary>
    public void Save(string path) => IntModelFile.Write(path, ToModel());

    public IntModel ToModel()
    {
        var meta = new Dictionary<string, string>(Metadata, StringComparer.Ordinal);
        for (int i = 0; i < _scales.Length; i++) meta[ScalePrefix + i.ToString(CultureInfo.InvariantCulture)] = _scales[i].ToString("R", CultureInfo.InvariantCulture);
        return IntProgramFormat.ToModel(Program, meta);
    }

    /// <summary>Reads an NQIM file written by <see cref="Save"/>; a damaged file throws <see cref="IntModelFormatException"/> naming it.</summary>
    public static IntegerModel Load(string path) => FromModel(IntModelFile.Read(path), path);

    public static IntegerModel FromModel(IntModel model, string source)
    {
        var program = IntProgramFormat.FromModel(model, source);
        var scales = new float[program.Values.Count];
        for (int i = 0; i < scales.Length; i++)
        {
            string key = ScalePrefix + i.ToString(CultureInfo.InvariantCulture);
            if (!model.Metadata.TryGetValue(key, out var s) || !float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out scales[i])
                || !(scales[i] > 0f) || !float.IsFinite(scales[i]))
                throw new IntModelFormatException(source, $"metadata \"{key}\" (the scale of value {i}) is missing or not a positive number.");
        }
        return new IntegerModel(program, scales, model.Metadata);
    }
}
