namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>A view with new dimensions (one may be −1). Backward reshapes g back.</summary>
    public static Var Reshape(Var x, params int[] dims)
    {
        var y = x.Value.Reshape(dims);
        return Var.Op(y, [x], o => x.AccumulateGrad(o.Grad!.Reshape(x.Shape.ToArray())));
    }

    /// <summary>Axes reordered: y.shape[i] = x.shape[perm[i]]. Backward applies the inverse permutation.</summary>
    public static Var Permute(Var x, params int[] perm)
    {
        var y = Ops.Permute(x.Value, perm);
        return Var.Op(y, [x], o =>
        {
            var inverse = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
            x.AccumulateGrad(Ops.Permute(o.Grad!, inverse), takeOwnership: true);
        });
    }

    /// <summary>Concatenation along <paramref name="axis"/>. Backward splits g into the parts' sizes.</summary>
    public static Var Concat(IReadOnlyList<Var> parts, int axis)
    {
        var values = parts.Select(p => p.Value).ToArray();
        var y = Ops.Concat(values, axis);
        var sizes = values.Select(v => v.Shape[axis]).ToArray();
        return Var.Op(y, parts.ToArray(), o =>
        {
            var pieces = Ops.Split(o.Grad!, axis, sizes);
            for (int i = 0; i < parts.Count; i++) parts[i].AccumulateGrad(pieces[i], takeOwnership: true);
        });
    }

    /// <summary>Elements [start, start + length) along <paramref name="axis"/> (a copy).</summary>
    public static Var Slice(Var x, int axis, int start, int length)
    {
        var y = Ops.SliceAxis(x.Value, axis, start, length);
        return Var.Op(y, [x], o =>
        {
            var dx = Tensor.Zeros(x.Shape);
            var idx = Enumerable.Range(start, length).ToArray();
            Ops.IndexAddInPlace(dx, axis, idx, o.Grad!);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }

    /// <summary>y = x.index_select(axis, indices); indices may repeat. Backward scatters-adds g.</summary>
    public static Var IndexSelect(Var x, int axis, int[] indices)
    {
        var y = Ops.IndexSelect(x.Value, axis, indices);
        return Var.Op(y, [x], o =>
        {
            var dx = Tensor.Zeros(x.Shape);
            Ops.IndexAddInPlace(dx, axis, indices, o.Grad!);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }
}
