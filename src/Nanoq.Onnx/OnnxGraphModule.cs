using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Taps;

namespace Nanoq.Onnx;

/// <summary>
/// A conv or pooling window as ONNX states it: square kernel, stride, dilation, padding <see cref="Pad"/> before and
/// <see cref="PadEnd"/> (≤ Pad) after. The module runs with Pad on both sides and crops to <see cref="Out"/>.
/// </summary>
public readonly record struct OnnxWindow(int Kernel, int Stride, int Dilation, int Pad, int PadEnd)
{
    /// <summary>ONNX's output size for input size h (floor mode).</summary>
    public int Out(int h) => (h + Pad + PadEnd - Dilation * (Kernel - 1) - 1) / Stride + 1;
}

/// <summary>
/// One computation of an imported graph: a node, or a fused chain of nodes (Conv → BatchNormalization → Relu as one
/// <see cref="ConvUnit"/>; Add → Relu as one <see cref="AddUnit"/>), reading <see cref="Inputs"/> and writing
/// <see cref="Output"/> (ONNX value names). <see cref="Tap"/> is the tap it runs through, if any.
/// </summary>
public sealed class OnnxStep
{
    internal OnnxStep(string name, string opTypes, string[] inputs, string output, Tap? tap, Module? layer, OnnxWindow? window,
                      Func<Var[], Var> run)
    {
        Name = name; OpTypes = opTypes; Inputs = inputs; Output = output; Tap = tap; Layer = layer; Window = window; Run = run;
    }

    /// <summary>The Nanoq name (the first node's name, sanitized); its modules and tap carry it.</summary>
    public string Name { get; }

    /// <summary>The ONNX op types it covers, e.g. "Conv+BatchNormalization+Relu".</summary>
    public string OpTypes { get; }

    public IReadOnlyList<string> Inputs { get; }
    public string Output { get; }
    public Tap? Tap { get; }

    /// <summary>The module a step without a tap runs (MaxPool2d, a lone BatchNorm2d) or the Linear before a site; else null.</summary>
    public Module? Layer { get; }

    /// <summary>The window of a Conv, MaxPool or AveragePool step (for a converter: padding and crop); else null.</summary>
    public OnnxWindow? Window { get; }

    internal Func<Var[], Var> Run { get; }

    public override string ToString() => $"{Name} [{OpTypes}] ({string.Join(", ", Inputs)}) → {Output}";
}

/// <summary>
/// An ONNX graph as a Nanoq network (DESIGN.md §11): its nodes mapped onto Nanoq modules — <see cref="Nn.Layers.Conv2d"/>,
/// <see cref="Nn.Layers.BatchNorm2d"/>, <see cref="Nn.Layers.Linear"/>, <see cref="Nn.Layers.MaxPool2d"/> — and routed
/// through taps exactly as the native backbones do (BasicBlock: conv units, adds), so installing a quantization recipe,
/// calibration, BN folding, the state dict and train/eval reach them like any other module. <see cref="Forward"/>
/// interprets the step list in the graph's (topological) order. Parameter names follow the ONNX node names
/// (<c>Convolution249.weight</c>, <c>BatchNormalization251.running_mean</c>), taps the fused unit's first node.
/// Built by <see cref="OnnxImporter"/>.
/// </summary>
public sealed class OnnxGraphModule : Layer
{
    private readonly List<OnnxStep> _steps = new();
    private readonly Dictionary<string, string> _aliases = new();
    private readonly HashSet<string> _fusedAway = new();
    private readonly HashSet<string> _memberNames = new(StringComparer.Ordinal);

    internal OnnxGraphModule(string inputName, int[]? inputShape, IReadOnlyList<string> outputNames)
    {
        InputName = inputName;
        InputShape = inputShape;
        OutputNames = outputNames;
    }

    /// <summary>The graph's one data input (value name).</summary>
    public string InputName { get; }

    /// <summary>The input's declared dims where all are fixed (e.g. [1, 3, 224, 224]), else null.</summary>
    public int[]? InputShape { get; }

    /// <summary>The graph outputs (value names, aliases resolved); <see cref="Forward"/> returns the first.</summary>
    public IReadOnlyList<string> OutputNames { get; private set; }

    /// <summary>The "input" site where the graph's input is quantized (<see cref="OnnxImportOptions.InputSite"/>), else null.</summary>
    public ActivationSite? InputSite { get; private set; }

    public IReadOnlyList<OnnxStep> Steps => _steps;

    /// <summary>Every value a step produces, in execution order (the names <see cref="Run"/> can return).</summary>
    public IEnumerable<string> ValueNames => _steps.Select(s => s.Output);

    /// <summary>y = the graph's first output for input x.</summary>
    public override Var Forward(Var x) => Run(x, [OutputNames[0]])[OutputNames[0]];

    /// <summary>
    /// Runs the graph on x and returns the values named in <paramref name="values"/> (default: the graph outputs).
    /// Stops as soon as all of them are computed, so asking for early values (a backbone's C2–C5) skips the tail.
    /// A value inside a fused unit (a conv's output before its batch norm) no longer exists: asking for it is an error.
    /// </summary>
    public Dictionary<string, Var> Run(Var x, IReadOnlyList<string>? values = null)
    {
        values ??= OutputNames;
        var want = values.Select(Resolve).ToArray();
        foreach (var (asked, w) in values.Zip(want))
        {
            if (_fusedAway.Contains(w))
                throw new ArgumentException($"ONNX value '{asked}' is inside a fused unit (conv → batch norm → activation, add → activation) and is not computed; ask for the unit's output.");
            if (w != InputName && _steps.All(s => s.Output != w))
                throw new ArgumentException($"ONNX value '{asked}' is not produced by this graph.");
        }
        var env = new Dictionary<string, Var>(StringComparer.Ordinal) { [InputName] = InputSite?.Forward(x) ?? x };
        var pending = new HashSet<string>(want.Where(w => !env.ContainsKey(w)), StringComparer.Ordinal);
        foreach (var step in _steps)
        {
            if (pending.Count == 0) break;
            var args = new Var[step.Inputs.Count];
            for (int i = 0; i < args.Length; i++) args[i] = env[step.Inputs[i]];
            env[step.Output] = step.Run(args);
            pending.Remove(step.Output);
        }
        var result = new Dictionary<string, Var>(StringComparer.Ordinal);
        foreach (var (asked, w) in values.Zip(want)) result[asked] = env[w];
        return result;
    }

    /// <summary>The value a name stands for once Identity/Dropout aliases are followed.</summary>
    public string Resolve(string value)
    {
        while (_aliases.TryGetValue(value, out var target)) value = target;
        return value;
    }

    // ---- construction (OnnxImporter) ----

    /// <summary>A member name unique in this module, from an ONNX node name: characters other than [A-Za-z0-9_] become '_'.</summary>
    internal string UniqueName(string raw)
    {
        var chars = raw.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_' ? ch : '_').ToArray();
        string name = chars.Length == 0 ? "node" : new string(chars);
        string candidate = name;
        for (int k = 1; !_memberNames.Add(candidate); k++) candidate = $"{name}_{k}";
        return candidate;
    }

    internal T AddChild<T>(string name, T module) where T : Module => Child(name, module);

    internal T AddTap<T>(string name, T tap) where T : Tap => Tap(name, tap);

    internal Tensor AddBuffer(string name, Tensor value) => Buffer(name, value);

    internal void AddStep(OnnxStep step) => _steps.Add(step);

    internal void AddAlias(string from, string to) => _aliases[from] = to;

    internal void MarkFused(string value) => _fusedAway.Add(value);

    internal void SetInputSite(ActivationSite site) => InputSite = site;

    internal void ResolveOutputs() => OutputNames = OutputNames.Select(Resolve).ToArray();
}
