using Nanoq.Autograd;
using Nanoq.Nn.Taps;

namespace Nanoq.Nn;

/// <summary>
/// A network part that owns named parameters, buffers and child modules, in PyTorch's naming: the state
/// dict key of a parameter is the dotted path of child names, e.g. <c>layer2.0.bn1.running_mean</c>, so a
/// torchvision state dict maps one to one (DESIGN.md §4). Registration order is preserved.
/// Train/eval mode switches batch norm (and anything else that behaves differently in training).
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Var Param)> _parameters = new();
    private readonly List<(string Name, Tensor Buffer)> _buffers = new();
    private readonly List<(string Name, Module Child)> _children = new();
    private readonly List<(string Name, Tap Tap)> _taps = new();

    public bool Training { get; private set; } = true;

    /// <summary>Registers a trainable parameter.</summary>
    protected Var Parameter(string name, Tensor value)
    {
        CheckName(name);
        var p = new Var(value, requiresGrad: true, name: name);
        _parameters.Add((name, p));
        return p;
    }

    /// <summary>Registers a non-trainable state tensor (e.g. batch norm's running statistics).</summary>
    protected Tensor Buffer(string name, Tensor value)
    {
        CheckName(name);
        _buffers.Add((name, value));
        return value;
    }

    /// <summary>Registers a child module under <paramref name="name"/>.</summary>
    protected T Child<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _children.Add((name, module));
        return module;
    }

    /// <summary>Registers a quantization tap (a conv unit, an add, an activation site) under <paramref name="name"/>.</summary>
    protected T Tap<T>(string name, T tap) where T : Tap
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.') || _taps.Any(t => t.Name == name))
            throw new ArgumentException($"Invalid or duplicate tap name '{name}' in {GetType().Name}.");
        _taps.Add((name, tap));
        tap.Name = name;
        return tap;
    }

    /// <summary>
    /// Every tap with its dotted path (owner path + tap name; an add's output site is "&lt;add&gt;.out"), in forward
    /// registration order, depth first. Walking also stores the full path in each <see cref="Tap.Name"/>.
    /// </summary>
    public IEnumerable<(string Name, Tap Tap)> NamedTaps(string prefix = "")
    {
        foreach (var (n, t) in _taps)
        {
            t.Name = prefix + n;
            yield return (t.Name, t);
            if (t is AddUnit add)
            {
                add.Output.Name = t.Name + ".out";
                yield return (add.Output.Name, add.Output);
            }
        }
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedTaps(prefix + n + ".")) yield return item;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"Invalid member name '{name}' in {GetType().Name}: must be non-empty and without '.'.");
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.");
    }

    public IReadOnlyList<(string Name, Module Child)> Children => _children;

    /// <summary>Switches this module and all its descendants to training (true) or evaluation (false) mode.</summary>
    public virtual void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, c) in _children) c.Train(training);
    }

    public void Eval() => Train(false);

    /// <summary>Every parameter with its dotted path, depth first in registration order.</summary>
    public IEnumerable<(string Name, Var Param)> NamedParameters(string prefix = "")
    {
        foreach (var (n, p) in _parameters) yield return (prefix + n, p);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedParameters(prefix + n + ".")) yield return item;
    }

    public IEnumerable<Var> Parameters() => NamedParameters().Select(p => p.Param);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (n, b) in _buffers) yield return (prefix + n, b);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedBuffers(prefix + n + ".")) yield return item;
    }

    /// <summary>Every module below (and including) this one with its dotted path ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedModules(prefix + n + ".")) yield return item;
    }

    /// <summary>Parameters and buffers by name (the live tensors, not copies), parameters first per module.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        AddState(d, "");
        return d;
    }

    private void AddState(Dictionary<string, Tensor> d, string prefix)
    {
        foreach (var (n, p) in _parameters) d[prefix + n] = p.Value;
        foreach (var (n, b) in _buffers) d[prefix + n] = b;
        foreach (var (n, c) in _children) c.AddState(d, prefix + n + ".");
    }

    /// <summary>
    /// Copies values into the parameters and buffers by name. Every name must be present with the same
    /// shape; with <paramref name="strict"/>, names the model does not have are errors too. PyTorch's
    /// <c>num_batches_tracked</c> counters are accepted and ignored (Nanoq's batch norm uses a fixed momentum).
    /// The error names the offending tensor and both shapes; nothing is copied unless everything matches.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var mine = StateDict();
        foreach (var (name, t) in mine)
        {
            if (!state.TryGetValue(name, out var src))
                throw new StateDictException($"State dict is missing '{name}' (shape {t.Shape}).");
            if (src.Shape != t.Shape)
                throw new StateDictException($"'{name}': the state dict has shape {src.Shape}, the model expects {t.Shape}.");
        }
        if (strict)
        {
            var extra = state.Keys.Where(k => !mine.ContainsKey(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
            if (extra.Count > 0)
                throw new StateDictException($"State dict has {extra.Count} name(s) the model lacks, first '{extra[0]}'.");
        }
        foreach (var (name, t) in mine) state[name].Span.CopyTo(t.Span);
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    public long ParameterCount() => Parameters().Sum(p => (long)p.Value.Size);
}
