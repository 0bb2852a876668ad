namespace Nanoq.Autograd;

/// <summary>
/// The differentiable ops (PyTorch's <c>torch.nn.functional</c>, for <see cref="Var"/>). Each op is written once:
/// the forward, and directly below it the backward that pushes the output gradient <c>g = ∂L/∂y</c> to the
/// inputs. Heavy kernels live in Nanoq.Tensor; this file wires them.
/// This part: broadcasting element-wise arithmetic.
/// </summary>
public static partial class Fn
{
    /// <summary>y = a + b (NumPy broadcasting).</summary>
    public static Var Add(Var a, Var b)
    {
        var y = Ops.Add(a.Value, b.Value);
        return Var.Op(y, [a, b], o =>
        {
            // ∂y/∂a = 1: the gradient, summed over the axes a was broadcast along.
            AccumulateReduced(a, o.Grad!);
            AccumulateReduced(b, o.Grad!);
        });
    }

    /// <summary>y = a − b.</summary>
    public static Var Sub(Var a, Var b)
    {
        var y = Ops.Sub(a.Value, b.Value);
        return Var.Op(y, [a, b], o =>
        {
            AccumulateReduced(a, o.Grad!);
            if (b.RequiresGrad) AccumulateReducedOwned(b, Ops.Mul(o.Grad!, -1f));
        });
    }

    /// <summary>y = a ⊙ b.</summary>
    public static Var Mul(Var a, Var b)
    {
        var y = Ops.Mul(a.Value, b.Value);
        return Var.Op(y, [a, b], o =>
        {
            if (a.RequiresGrad) AccumulateReducedOwned(a, Ops.Mul(o.Grad!, b.Value)); // ∂/∂a = g ⊙ b
            if (b.RequiresGrad) AccumulateReducedOwned(b, Ops.Mul(o.Grad!, a.Value)); // ∂/∂b = g ⊙ a
        });
    }

    /// <summary>y = a / b.</summary>
    public static Var Div(Var a, Var b)
    {
        var y = Ops.Div(a.Value, b.Value);
        return Var.Op(y, [a, b], o =>
        {
            if (a.RequiresGrad) AccumulateReducedOwned(a, Ops.Div(o.Grad!, b.Value)); // g / b
            if (b.RequiresGrad)
            {
                // ∂/∂b = −g · a / b² = −g · y / b
                using var gy = Ops.Mul(o.Grad!, o.Value);
                using var t = Ops.Div(gy, b.Value);
                AccumulateReducedOwned(b, Ops.Mul(t, -1f));
            }
        });
    }

    /// <summary>y = s · a.</summary>
    public static Var Scale(Var a, float s)
    {
        var y = Ops.Mul(a.Value, s);
        return Var.Op(y, [a], o => a.AccumulateGrad(Ops.Mul(o.Grad!, s), takeOwnership: true));
    }

    /// <summary>y = a + s.</summary>
    public static Var AddScalar(Var a, float s)
    {
        var y = Ops.Add(a.Value, s);
        return Var.Op(y, [a], o => a.AccumulateGrad(o.Grad!));
    }

    /// <summary>y = exp(a).</summary>
    public static Var Exp(Var a)
    {
        var y = Ops.Exp(a.Value);
        return Var.Op(y, [a], o => a.AccumulateGrad(Ops.Mul(o.Grad!, o.Value), takeOwnership: true)); // g · y
    }

    /// <summary>y = ln(a).</summary>
    public static Var Log(Var a)
    {
        var y = Ops.Log(a.Value);
        return Var.Op(y, [a], o => a.AccumulateGrad(Ops.Div(o.Grad!, a.Value), takeOwnership: true)); // g / a
    }

    /// <summary>y = a².</summary>
    public static Var Square(Var a)
    {
        var y = Ops.Square(a.Value);
        return Var.Op(y, [a], o =>
        {
            using var ga = Ops.Mul(o.Grad!, a.Value);
            a.AccumulateGrad(Ops.Mul(ga, 2f), takeOwnership: true); // 2 a g
        });
    }

    /// <summary>y = √a.</summary>
    public static Var Sqrt(Var a)
    {
        var y = Ops.Sqrt(a.Value);
        return Var.Op(y, [a], o =>
        {
            using var t = Ops.Div(o.Grad!, o.Value);
            a.AccumulateGrad(Ops.Mul(t, 0.5f), takeOwnership: true); // g / (2√a)
        });
    }

    /// <summary>y = |a|; the subgradient at 0 is 0 (PyTorch's sign(0) = 0).</summary>
    public static Var Abs(Var a)
    {
        var y = Ops.Abs(a.Value);
        return Var.Op(y, [a], o =>
        {
            using var s = Ops.Sign(a.Value);
            a.AccumulateGrad(Ops.Mul(o.Grad!, s), takeOwnership: true);
        });
    }

    /// <summary>Accumulates g into p, summed down to p's shape where p was broadcast. Borrows g.</summary>
    private static void AccumulateReduced(Var p, Tensor g)
    {
        if (!p.RequiresGrad) return;
        if (g.Shape == p.Shape) p.AccumulateGrad(g);
        else p.AccumulateGrad(Ops.ReduceToShape(g, p.Shape), takeOwnership: true);
    }

    /// <summary>As <see cref="AccumulateReduced"/>, taking ownership of g.</summary>
    private static void AccumulateReducedOwned(Var p, Tensor g)
    {
        if (g.Shape == p.Shape) p.AccumulateGrad(g, takeOwnership: true);
        else
        {
            p.AccumulateGrad(Ops.ReduceToShape(g, p.Shape), takeOwnership: true);
            g.Dispose();
        }
    }
}
