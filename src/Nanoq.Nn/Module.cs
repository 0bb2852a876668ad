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

    /// <summary>
    /// Registers a quantization tap (a conv or linear unit, an add, an activation site) under <paramref name="name"/>.
    /// Taps have their own namespace: a tap usually shares its name with the layer it wraps (ResNet's tap "conv1" over
    /// the modules conv1 and bn1), and the modules a tap owns — the quantizers installed at it — appear in the state
    /// dict under the tap's path, as PyTorch's QAT modules name them (<c>layer1.0.conv1.weight_fake_quant.scale</c>).
    /// </summary>
    protected T Tap<T>(string name, T tap) where T : Tap
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.') || _taps.Any(t => t.Name == name))
            throw new ArgumentException($"Invalid or duplicate tap name '{name}' in {GetType().Name}.");
        _taps.Add((name, tap));
        tap.Name = name;
        return tap;
    }

    /// <summary>
    /// Every tap with its dotted path (owner path + tap name), in registration order, depth first. Walking also stores
    /// the full path in each <see cref="Tap.Name"/>.
    /// </summary>
    public IEnumerable<(string Name, Tap Tap)> NamedTaps(string prefix = "")
    {
        foreach (var (n, t) in _taps)
        {
            t.Name = prefix + n;
            yield return (t.Name, t);
        }
        foreach (var (n, c) in _children)
            foreach (var item in c.NamedTaps(prefix + n + ".")) yield return item;
    }

    /// <summary>Registers, replaces (same name) or, with null, removes a child module — for modules installed later (quantizers).</summary>
    protected void SetChild(string name, Module? module)
    {
        int i = _children.FindIndex(c => c.Name == name);
        if (module is null)
        {
            if (i >= 0) _children.RemoveAt(i);
            return;
        }
        if (i >= 0) _children[i] = (name, module);
        else Child(name, module);
    }

    /// <summary>Children and taps with their names: everything a walk over the tree descends into.</summary>
    private IEnumerable<(string Name, Module Module)> Descendants()
    {
        foreach (var c in _children) yield return c;
        foreach (var (n, t) in _taps) yield return (n, t);
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
        foreach (var (_, c) in Descendants()) c.Train(training);
    }

    public void Eval() => Train(false);

    /// <summary>Every parameter with its dotted path, depth first in registration order.</summary>
    public IEnumerable<(string Name, Var Param)> NamedParameters(string prefix = "")
    {
        foreach (var (n, p) in _parameters) yield return (prefix + n, p);
        foreach (var (n, c) in Descendants())
            foreach (var item in c.NamedParameters(prefix + n + ".")) yield return item;
    }

    public IEnumerable<Var> Parameters() => NamedParameters().Select(p => p.Param);

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (n, b) in _buffers) yield return (prefix + n, b);
        foreach (var (n, c) in Descendants())
            foreach (var item in c.NamedBuffers(prefix + n + ".")) yield return item;
    }

    /// <summary>
    /// Every module below (and including) this one with its dotted path ("" for this one), taps and what they own
    /// included (a tap shares its path with the layer it wraps, so paths are not unique among modules; state dict keys are).
    /// </summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var (n, c) in Descendants())
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
        foreach (var (n, p) in _parameters) Add(prefix + n, p.Value);
        foreach (var (n, b) in _buffers) Add(prefix + n, b);
        foreach (var (n, c) in Descendants()) c.AddState(d, prefix + n + ".");

        void Add(string key, Tensor t)
        {
            if (!d.TryAdd(key, t)) throw new InvalidOperationException($"{GetType().Name}: two state tensors are named '{key}' (a tap's module shadowing a layer's parameter?).");
        }
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
