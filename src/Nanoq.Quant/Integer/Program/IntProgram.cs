namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// One integer program for every model (DESIGN.md §5, "the integer runtime"): a flat list of ops over numbered values,
/// recorded by tracing one forward of a fake-quant model through its taps (<see cref="Convert.ProgramConverter"/>).
/// Values <see cref="Inputs"/> are given as codes (the float edge quantized them), ops run in order, values
/// <see cref="Outputs"/> are returned as codes (the float edge dequantizes them). Bytes between ops, int32 inside an op,
/// no floating point anywhere (an IL test checks every type the interpreter runs). Any model converts to one, with no
/// model-specific code; <see cref="IntProgramFormat"/> stores any program. One run at a time per arena (its buffers are reused).
/// </summary>
public sealed class IntProgram
{
    private readonly CodeArena _arena = new();

    public IntProgram(IReadOnlyList<IntValue> values, IReadOnlyList<int> inputs, IReadOnlyList<IntOp> ops, IReadOnlyList<int> outputs)
    {
        for (int i = 0; i < values.Count; i++)
            if (values[i].Id != i) throw new ArgumentException($"IntProgram: value {i} has id {values[i].Id}.");
        var defined = new bool[values.Count];
        foreach (int v in inputs) Define(v, "input");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in ops)
        {
            if (!names.Add(op.Name)) throw new ArgumentException($"IntProgram: two ops are named '{op.Name}'.");
            foreach (int v in op.Inputs)
                if ((uint)v >= (uint)values.Count || !defined[v])
                    throw new ArgumentException($"IntProgram: op '{op.Name}' reads value {v} before any op writes it.");
            Define(op.Output, $"op '{op.Name}'");
        }
        foreach (int v in outputs)
            if ((uint)v >= (uint)values.Count || !defined[v]) throw new ArgumentException($"IntProgram: output value {v} is never written.");
        Values = values;
        Inputs = inputs;
        Ops = ops;
        Outputs = outputs;
        KeepsRowsApart = ops.All(o => o.KeepsRowsApart);

        void Define(int v, string by)
        {
            if ((uint)v >= (uint)values.Count) throw new ArgumentException($"IntProgram: {by} writes value {v}, but there are {values.Count}.");
            if (defined[v]) throw new ArgumentException($"IntProgram: value {v} is written twice (again by {by}).");
            defined[v] = true;
        }
    }

    public IReadOnlyList<IntValue> Values { get; }
    public IReadOnlyList<int> Inputs { get; }
    public IReadOnlyList<IntOp> Ops { get; }
    public IReadOnlyList<int> Outputs { get; }

    /// <summary>
    /// Whether every op keeps rows apart (<see cref="IntOp.KeepsRowsApart"/>): then a batch run as consecutive groups of
    /// images, each group with its own arena, gives the rows of the whole batch's run (<see cref="IntegerModel.RunGroups"/>).
    /// </summary>
    public bool KeepsRowsApart { get; }

    /// <summary>The op named <paramref name="name"/>; throws naming it.</summary>
    public IntOp Op(string name) =>
        Ops.FirstOrDefault(o => o.Name == name) ?? throw new KeyNotFoundException($"IntProgram: no op named '{name}'.");

    /// <summary>
    /// Runs the program: input codes (one per <see cref="Inputs"/>, on their grids) → output codes. The outputs live in
    /// the program's arena until the next run: <see cref="CodeTensor.Clone"/> what you keep. <paramref name="hook"/>
    /// sees (and may replace) every op's output. <paramref name="sideInputs"/> supplies what ops beyond codes need (the
    /// RoIs of an <see cref="IntRoiAlignOp"/>), asked for when the op is about to run, with every value written so far.
    /// </summary>
    public IReadOnlyList<CodeTensor> Run(IReadOnlyList<CodeTensor> inputs, IIntOpHook? hook = null, IIntSideInputs? sideInputs = null) =>
        Run(inputs, _arena, hook, sideInputs);

    /// <summary>
    /// As <see cref="Run(IReadOnlyList{CodeTensor}, IIntOpHook?, IIntSideInputs?)"/> in buffers of <paramref name="arena"/>
    /// (reset first; the outputs live there until its next run): runs with different arenas may go side by side, since
    /// ops hold no state of a run.
    /// </summary>
    public IReadOnlyList<CodeTensor> Run(IReadOnlyList<CodeTensor> inputs, CodeArena arena, IIntOpHook? hook = null, IIntSideInputs? sideInputs = null)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (inputs.Count != Inputs.Count) throw new ArgumentException($"IntProgram: {inputs.Count} inputs for a program of {Inputs.Count}.");
        arena.Reset();
        var slots = new CodeTensor?[Values.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var v = Values[Inputs[i]];
            if (inputs[i].ZeroPoint != v.ZeroPoint || inputs[i].Bits > v.Bits)
                throw new ArgumentException($"IntProgram: input {i} {inputs[i]} is not on the grid of '{v.Name}' (z = {v.ZeroPoint}, {v.Bits} bits).");
            slots[Inputs[i]] = inputs[i];
        }
        var args = new List<CodeTensor>(4);
        foreach (var op in Ops)
        {
            args.Clear();
            foreach (int v in op.Inputs) args.Add(slots[v]!);
            CodeTensor y;
            if (op is IntRoiAlignOp roi)
            {
                using var side = (sideInputs ?? throw new InvalidOperationException($"IntProgram: op '{op.Name}' needs side inputs (its RoIs); pass an IIntSideInputs.")).RoiAlign(roi, slots);
                y = roi.Run(args, side, Values[op.Output], arena);   // then the plans' pooled arrays go back
            }
            else y = op.Run(args, Values[op.Output], arena);
            if (hook?.AfterOp(op, args, y) is { } replaced) y = replaced;
            slots[op.Output] = y;
        }
        var outs = new CodeTensor[Outputs.Count];
        for (int i = 0; i < outs.Length; i++) outs[i] = slots[Outputs[i]]!;
        return outs;
    }

    /// <summary>
    /// The integer computation of element <paramref name="index"/> of op <paramref name="opName"/>'s output on these
    /// inputs (<paramref name="sideInputs"/> as for <see cref="Run"/>, for programs with a RoIAlign).
    /// </summary>
    public string Explain(IReadOnlyList<CodeTensor> inputs, string opName, int[] index, IIntSideInputs? sideInputs = null)
    {
        var target = Op(opName);
        var capture = new Capture(target);
        Run(inputs, capture, sideInputs);
        var output = capture.Output!;
        output.IndexOf(index); // throws naming the index and the shape when it lies outside
        return target.Explain(capture.Inputs!, index);
    }

    private sealed class Capture(IntOp target) : IIntOpHook
    {
        public CodeTensor[]? Inputs { get; private set; }
        public CodeTensor? Output { get; private set; }

        public CodeTensor? AfterOp(IntOp op, IReadOnlyList<CodeTensor> inputs, CodeTensor output)
        {
            if (op != target) return null;
            Inputs = inputs.Select(t => t.Clone()).ToArray();
            Output = output.Clone();
            return null;
        }
    }
}
