using Nanoq.Autograd;

namespace Nanoq.Nn.Optim;

/// <summary>
/// Stochastic gradient descent with momentum and weight decay, PyTorch's update rule (<c>torch.optim.SGD</c>):
/// <code>
///   d = ∂L/∂p + λ·p            (weight decay λ)
///   b = μ·b + d                 (momentum μ; the first step sets b = d)
///   p = p − lr·b
/// </code>
/// Parameters without a gradient this step are skipped. The momentum buffers are the optimizer's state
/// (<see cref="State"/>), saved with checkpoints so a resumed run continues exactly.
/// </summary>
public sealed class Sgd
{
    private readonly (string Name, Var Param)[] _params;
    private readonly Tensor?[] _momentum;

    public Sgd(IEnumerable<(string Name, Var Param)> parameters, float lr, float momentum = 0.9f, float weightDecay = 1e-4f)
    {
        _params = parameters.ToArray();
        _momentum = new Tensor?[_params.Length];
        Lr = lr; Momentum = momentum; WeightDecay = weightDecay;
    }

    public float Lr { get; set; }
    public float Momentum { get; }
    public float WeightDecay { get; }

    /// <summary>Parameters whose names match are not decayed (e.g. batch-norm γ/β and biases if wanted).</summary>
    public Func<string, bool> NoDecay { get; init; } = _ => false;

    public void Step()
    {
        for (int i = 0; i < _params.Length; i++)
        {
            var (name, p) = _params[i];
            if (p.Grad is null) continue;
            var w = p.Value.Span;
            var g = p.Grad.Span;
            float wd = NoDecay(name) ? 0f : WeightDecay;
            if (Momentum == 0f)
            {
                for (int j = 0; j < w.Length; j++) w[j] -= Lr * (g[j] + wd * w[j]);
                continue;
            }
            bool first = _momentum[i] is null;
            var bufT = _momentum[i] ??= Tensor.Zeros(p.Shape);
            var b = bufT.Span;
            for (int j = 0; j < w.Length; j++)
            {
                float d = g[j] + wd * w[j];
                b[j] = first ? d : Momentum * b[j] + d;
                w[j] -= Lr * b[j];
            }
        }
    }

    public void ZeroGrad()
    {
        foreach (var (_, p) in _params) p.ZeroGrad();
    }

    /// <summary>The momentum buffers by parameter name (<c>momentum.&lt;name&gt;</c>), for checkpoints.</summary>
    public Dictionary<string, Tensor> State()
    {
        var d = new Dictionary<string, Tensor>();
        for (int i = 0; i < _params.Length; i++)
            if (_momentum[i] is { } m) d["momentum." + _params[i].Name] = m;
        return d;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        for (int i = 0; i < _params.Length; i++)
        {
            if (!state.TryGetValue("momentum." + _params[i].Name, out var m)) { _momentum[i] = null; continue; }
            if (m.Shape != _params[i].Param.Shape)
                throw new StateDictException($"'momentum.{_params[i].Name}': shape {m.Shape}, the parameter has {_params[i].Param.Shape}.");
            _momentum[i] = m.Clone();
        }
    }
}
