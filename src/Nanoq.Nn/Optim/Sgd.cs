using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Nanoq.Autograd;
using Nanoq.Kernels;

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

    /// <summary>
    /// Parameters whose names match are not decayed (e.g. batch-norm γ/β and biases if wanted). <see cref="Step"/> calls it
    /// from the kernel threads, several at once: keep it a pure function of the name.
    /// </summary>
    public Func<string, bool> NoDecay { get; init; } = _ => false;

    public void Step() =>
        // Parameters are independent: the kernel threads share them out, an idle thread taking any not started yet (a
        // ResNet's last convs are 2.4 M floats each, its batch-norm vectors 64).
        WorkSplit.Tasks(_params.Length, StepOne);

    private void StepOne(int i)
    {
        var (name, p) = _params[i];
        if (p.Grad is null) return;
        float wd = NoDecay(name) ? 0f : WeightDecay;
        if (Momentum == 0f)
        {
            Update(p.Value.Span, p.Grad.Span, default, Lr, 0f, wd, first: false);
            return;
        }
        bool first = _momentum[i] is null;
        var bufT = _momentum[i] ??= Tensor.Zeros(p.Shape);
        Update(p.Value.Span, p.Grad.Span, bufT.Span, Lr, Momentum, wd, first);
    }

    /// <summary>
    /// One parameter's update, 16 (AVX-512) or 8 (AVX2) lanes at a time with the same float32 operations as the scalar tail (a product, then a
    /// sum: no fused multiply-add), so every element gets the scalar formula's bits:
    /// <code>
    ///   d = g + λ·w;   b = first ? d : μ·b + d;   w = w − lr·b          (μ = 0: no buffer, w = w − lr·d)
    /// </code>
    /// </summary>
    internal static void Update(Span<float> w, ReadOnlySpan<float> g, Span<float> b, float lr, float momentum, float wd, bool first)
    {
        int n = w.Length, j = 0;
        if (Simd.Level == SimdLevel.Avx512)
        {
            var vwd = Vector512.Create(wd); var vlr = Vector512.Create(lr); var vm = Vector512.Create(momentum);
            ref float pw = ref MemoryMarshal.GetReference(w);
            ref float pg = ref MemoryMarshal.GetReference(g);
            ref float pb = ref MemoryMarshal.GetReference(b);
            for (; j <= n - 16; j += 16)
            {
                var wv = Vector512.LoadUnsafe(ref pw, (nuint)j);
                var d = Vector512.LoadUnsafe(ref pg, (nuint)j) + vwd * wv;
                if (momentum != 0f)
                {
                    d = first ? d : vm * Vector512.LoadUnsafe(ref pb, (nuint)j) + d;
                    d.StoreUnsafe(ref pb, (nuint)j);
                }
                (wv - vlr * d).StoreUnsafe(ref pw, (nuint)j);
            }
        }
        else if (Simd.Level >= SimdLevel.Avx2)
        {
            // The same operations 8 lanes at a time.
            var vwd = Vector256.Create(wd); var vlr = Vector256.Create(lr); var vm = Vector256.Create(momentum);
            ref float pw = ref MemoryMarshal.GetReference(w);
            ref float pg = ref MemoryMarshal.GetReference(g);
            ref float pb = ref MemoryMarshal.GetReference(b);
            for (; j <= n - 8; j += 8)
            {
                var wv = Vector256.LoadUnsafe(ref pw, (nuint)j);
                var d = Vector256.LoadUnsafe(ref pg, (nuint)j) + vwd * wv;
                if (momentum != 0f)
                {
                    d = first ? d : vm * Vector256.LoadUnsafe(ref pb, (nuint)j) + d;
                    d.StoreUnsafe(ref pb, (nuint)j);
                }
                (wv - vlr * d).StoreUnsafe(ref pw, (nuint)j);
            }
        }
        for (; j < n; j++)
        {
            float d = g[j] + wd * w[j];
            if (momentum != 0f)
            {
                b[j] = first ? d : momentum * b[j] + d;
                d = b[j];
            }
            w[j] -= lr * d;
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
