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
        FirstSideInputOp = ops.TakeWhile(o => o is not IntRoiAlignOp).Count();

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

    /// <summary>
    /// Index of the first op that needs the host's side inputs (<see cref="IntRoiAlignOp"/>: its RoIs), or the op count:
    /// where <see cref="RunBranches"/> stops running by branches.
    /// </summary>
    public int FirstSideInputOp { get; }

    /// <summary>Whether an op needs the host's side inputs.</summary>
    public bool HasSideInputs => FirstSideInputOp < Ops.Count;

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
        arena.Reset();
        var slots = Bind(inputs);
        var args = new List<CodeTensor>(4);
        foreach (var op in Ops)
        {
            var y = RunOp(op, slots, args, arena, sideInputs);
            if (hook?.AfterOp(op, args, y) is { } replaced) y = replaced;
            slots[op.Output] = y;
        }
        return Results(slots);
    }

    /// <summary>
    /// As <see cref="Run(IReadOnlyList{CodeTensor}, CodeArena, IIntOpHook?, IIntSideInputs?)"/> with independent ops side
    /// by side: each of <paramref name="arenas"/>.Count kernel threads takes the first op in program order whose inputs
    /// are computed and runs it in its own arena (all reset first; the outputs live in them until their next run). Why: a
    /// detector's branches — RetinaNet's class and box towers, its pyramid levels, Faster R-CNN's FPN and RPN levels —
    /// then share the cores at batch 1, where splitting each small op over them gains little. A thread that finds no op
    /// ready lends itself to the running ops' kernels until one ends (<see cref="Nanoq.Kernels.ParallelRunner.LendUntil"/>),
    /// so along a chain of single ops (a backbone) each op's kernels have every core, and a large op left alone at the end
    /// of the branches (the finest level's RPN conv) gets the threads as they come free. A program with side inputs runs
    /// by branches up to its first RoIAlign and in order from there, on this thread (thread 0, in
    /// <paramref name="arenas"/>[0]: the host's proposals may use thread-bound state) with the other threads lending
    /// themselves. The same codes as a run in order: an op computes the same on any thread and with any split.
    /// <para>
    /// Measured on the default Faster R-CNN at batch 1 (2 threads, Zen 4, 2026-12-07): the branches took 1.95 ms with each
    /// op's kernels serial — the thread running the backbone busy 1.69 ms, the other 0.66 — and 1.28–1.52 ms lending (a
    /// stopwatch around each op, 400 runs a build, 04:05–04:30, load 1.5–2.7); the whole forward 3.54–3.83 ms against
    /// 3.01–3.05 in pairs with the float twin, alternating builds (04:28–04:35; benchmarks/README.md, "tenth session").
    /// The first version woke a sleeping thread after every op (a system call on the op's path, 50–70 µs): slower than in
    /// order; then only when two ops were ready.
    /// </para>
    /// </summary>
    public IReadOnlyList<CodeTensor> RunBranches(IReadOnlyList<CodeTensor> inputs, IReadOnlyList<CodeArena> arenas, IIntSideInputs? sideInputs = null)
    {
        ArgumentNullException.ThrowIfNull(arenas);
        if (arenas.Count == 0) throw new ArgumentException("IntProgram.RunBranches: no arenas.");
        foreach (var a in arenas) a.Reset();
        var slots = Bind(inputs);
        int n = FirstSideInputOp, done = 0, firstOpen = 0, finished = 0;
        bool tailDone = false;
        var state = new byte[n];   // 0 waiting, 1 running, 2 done
        var gate = new object();
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? error = null;

        bool Ready(int i)
        {
            foreach (int v in Ops[i].Inputs)
                if (slots[v] is null) return false;
            return true;
        }

        // Thread t uses arenas[t]; task 0 runs on this thread (ParallelRunner's rule), which runs the tail: the host's
        // side inputs may use thread-bound state (the autograd tape, no-grad mode).
        Nanoq.Kernels.WorkSplit.Tasks(arenas.Count, t =>
        {
            var args = new List<CodeTensor>(4);
            while (true)
            {
                int pick = -1, seen;
                bool branchesDone;
                lock (gate)
                {
                    if (error is not null || tailDone) return;
                    for (int i = firstOpen; i < n && pick < 0; i++)
                        if (state[i] == 0 && Ready(i)) pick = i;
                    if (pick >= 0) state[pick] = 1;
                    seen = finished;
                    branchesDone = done == n;
                }
                if (branchesDone && t == 0)
                {
                    try
                    {
                        for (int i = n; i < Ops.Count; i++) slots[Ops[i].Output] = RunOp(Ops[i], slots, args, arenas[0], sideInputs);
                    }
                    finally
                    {
                        lock (gate) { tailDone = true; Volatile.Write(ref finished, finished + 1); }
                    }
                    return;
                }
                if (pick < 0)
                {
                    // Nothing ready until a running op ends (or the tail runs on thread 0): meanwhile this thread helps
                    // the running ops' kernels.
                    Nanoq.Kernels.ParallelRunner.LendUntil(ref finished, seen);
                    continue;
                }
                CodeTensor y;
                try { y = RunOp(Ops[pick], slots, args, arenas[t], null); }
                catch (Exception e)
                {
                    lock (gate) { error ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e); Volatile.Write(ref finished, finished + 1); }
                    return;
                }
                lock (gate)
                {
                    slots[Ops[pick].Output] = y;
                    state[pick] = 2;
                    done++;
                    while (firstOpen < n && state[firstOpen] == 2) firstOpen++;
                    Volatile.Write(ref finished, finished + 1);   // a lending thread looks again
                }
            }
        });
        error?.Throw();
        return Results(slots);
    }

    /// <summary>The value slots of a run with its inputs bound (checked against their grids).</summary>
    private CodeTensor?[] Bind(IReadOnlyList<CodeTensor> inputs)
    {
        if (inputs.Count != Inputs.Count) throw new ArgumentException($"IntProgram: {inputs.Count} inputs for a program of {Inputs.Count}.");
        var slots = new CodeTensor?[Values.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var v = Values[Inputs[i]];
            if (inputs[i].ZeroPoint != v.ZeroPoint || inputs[i].Bits > v.Bits)
                throw new ArgumentException($"IntProgram: input {i} {inputs[i]} is not on the grid of '{v.Name}' (z = {v.ZeroPoint}, {v.Bits} bits).");
            slots[Inputs[i]] = inputs[i];
        }
        return slots;
    }

    /// <summary>One op on the values computed so far (its inputs gathered into <paramref name="args"/>), into <paramref name="arena"/>.</summary>
    private CodeTensor RunOp(IntOp op, CodeTensor?[] slots, List<CodeTensor> args, CodeArena arena, IIntSideInputs? sideInputs)
    {
        args.Clear();
        foreach (int v in op.Inputs) args.Add(slots[v]!);
        if (op is IntRoiAlignOp roi)
        {
            using var side = (sideInputs ?? throw new InvalidOperationException($"IntProgram: op '{op.Name}' needs side inputs (its RoIs); pass an IIntSideInputs.")).RoiAlign(roi, slots);
            return roi.Run(args, side, Values[op.Output], arena);   // then the plans' pooled arrays go back
        }
        return op.Run(args, Values[op.Output], arena);
    }

    private CodeTensor[] Results(CodeTensor?[] slots)
    {
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
