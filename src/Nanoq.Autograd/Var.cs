namespace Nanoq.Autograd;

/// <summary>
/// A node of the autograd graph (micrograd's <c>Value</c>, for tensors): a value, the gradient of the final
/// scalar with respect to it (made on demand), the nodes it was computed from, and the closure that pushes
/// its gradient to them.
///
/// <see cref="Backward()"/> orders the graph topologically once and sweeps it in reverse; gradients
/// accumulate (<c>+=</c>), so a node used twice receives the sum of both uses, and a leaf's gradient must be
/// cleared between steps (<see cref="ZeroGrad"/>, or the optimizer's).
/// </summary>
public sealed class Var
{
    private readonly Var[] _parents;
    private Action? _backward;
    private Action? _release;

    /// <summary>A leaf: a parameter (<paramref name="requiresGrad"/> true) or a constant input.</summary>
    public Var(Tensor value, bool requiresGrad = false, string? name = null)
    {
        Value = value;
        RequiresGrad = requiresGrad;
        Name = name;
        _parents = [];
    }

    private Var(Tensor value, Var[] parents, bool requiresGrad)
    {
        Value = value;
        _parents = parents;
        RequiresGrad = requiresGrad;
    }

    public Tensor Value { get; private set; }

    /// <summary>∂L/∂this, the shape of <see cref="Value"/>; null until a gradient reaches this node.</summary>
    public Tensor? Grad { get; private set; }

    /// <summary>Whether gradients flow to (and through) this node.</summary>
    public bool RequiresGrad { get; }

    public bool IsLeaf => _parents.Length == 0;

    public string? Name { get; set; }

    public Shape Shape => Value.Shape;

    public IReadOnlyList<Var> Parents => _parents;

    /// <summary>
    /// The result of a differentiable op. It requires grad if any parent does and recording is on
    /// (<see cref="GradMode"/>); otherwise the graph is not kept and <paramref name="backward"/> is dropped.
    /// The backward closure receives the finished output node and must accumulate into its parents with
    /// <see cref="AccumulateGrad"/>.
    /// </summary>
    public static Var Op(Tensor value, Var[] parents, Action<Var> backward) => Op(value, parents, backward, null);

    /// <summary>
    /// As <see cref="Op(Tensor, Var[], Action{Var})"/>, with <paramref name="release"/> run when the node's
    /// <see cref="Tape"/> is disposed: where an op keeps pooled scratch for its backward (max pooling's argmax),
    /// it hands it back there.
    /// </summary>
    public static Var Op(Tensor value, Var[] parents, Action<Var> backward, Action? release)
    {
        bool requires = false;
        if (GradMode.IsEnabled)
            foreach (var p in parents) requires |= p.RequiresGrad;
        var v = requires ? new Var(value, parents, true) : new Var(value, [], false);
        if (requires) v._backward = () => backward(v);
        v._release = release;
        Tape.Current?.Record(v);
        return v;
    }

    /// <summary>
    /// Adds <paramref name="g"/> (shape of <see cref="Value"/>) into <see cref="Grad"/>. When this node had no
    /// gradient yet and <paramref name="takeOwnership"/> is true, <paramref name="g"/> becomes the gradient
    /// without a copy (the caller gives it up). Nodes that do not require grad ignore the call.
    /// </summary>
    public void AccumulateGrad(Tensor g, bool takeOwnership = false)
    {
        if (!RequiresGrad)
        {
            if (takeOwnership) g.Dispose();
            return;
        }
        if (g.Shape != Value.Shape)
            throw new InvalidOperationException($"Gradient of shape {g.Shape} for a value of shape {Value.Shape} ({Name ?? "unnamed"}).");
        if (Grad is null)
        {
            if (takeOwnership && g.OwnsBuffer) Grad = g;
            else Grad = g.Clone();
        }
        else
        {
            Ops.AddInPlace(Grad, g);
            if (takeOwnership) g.Dispose();
        }
    }

    /// <summary>The gradient tensor, created as zeros if missing (for kernels that accumulate in place).</summary>
    public Tensor GradOrZeros() => Grad ??= Tensor.Zeros(Value.Shape);

    /// <summary>Clears the gradient (returns its buffer to the pool).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>Runs backpropagation from this scalar node, seeding ∂L/∂L = 1.</summary>
    public void Backward()
    {
        if (Value.Size != 1)
            throw new InvalidOperationException($"Backward() without a seed needs a one-element value, not {Value.Shape}; pass the upstream gradient.");
        using var seed = Tensor.Full(Value.Shape, 1f);
        Backward(seed);
    }

    /// <summary>Runs backpropagation from this node with upstream gradient <paramref name="seed"/>.</summary>
    public void Backward(Tensor seed)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward() on a value that does not require grad: no parameter reaches it, or it was computed under GradMode.NoGrad().");
        AccumulateGrad(seed);
        var order = TopologicalOrder();
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var v = order[i];
            if (v._backward is not null && v.Grad is not null) v._backward();
        }
    }

    /// <summary>Nodes reachable from this one that require grad, parents before children (iterative DFS).</summary>
    private List<Var> TopologicalOrder()
    {
        var order = new List<Var>();
        var visited = new HashSet<Var>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Var node, int next)>();
        stack.Push((this, 0));
        visited.Add(this);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node._parents.Length)
            {
                stack.Push((node, next + 1));
                var p = node._parents[next];
                if (p.RequiresGrad && visited.Add(p)) stack.Push((p, 0));
            }
            else order.Add(node);
        }
        return order;
    }

    /// <summary>Returns this intermediate node's buffers to the pool (used by <see cref="Tape"/>).</summary>
    internal void Release()
    {
        _backward = null;
        _release?.Invoke();
        _release = null;
        Grad?.Dispose();
        Grad = null;
        Value.Dispose();
    }

    public override string ToString() => $"Var({Name ?? (IsLeaf ? "leaf" : "op")}, {Value.Shape}{(RequiresGrad ? ", grad" : "")})";

    // Operators read like the math; each is one Fn op.
    public static Var operator +(Var a, Var b) => Fn.Add(a, b);
    public static Var operator -(Var a, Var b) => Fn.Sub(a, b);
    public static Var operator *(Var a, Var b) => Fn.Mul(a, b);
    public static Var operator /(Var a, Var b) => Fn.Div(a, b);
    public static Var operator -(Var a) => Fn.Scale(a, -1f);
    public static Var operator *(Var a, float s) => Fn.Scale(a, s);
    public static Var operator *(float s, Var a) => Fn.Scale(a, s);
    public static Var operator +(Var a, float s) => Fn.AddScalar(a, s);
}
