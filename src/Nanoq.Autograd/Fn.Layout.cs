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
        var r = Var.Op(y, parts.ToArray(), o =>
        {
            var pieces = Ops.Split(o.Grad!, axis, sizes);
            for (int i = 0; i < parts.Count; i++) parts[i].AccumulateGrad(pieces[i], takeOwnership: true);
        });
        OpTrace.Op("concat", r, parts, axis);
        return r;
    }

    /// <summary>
    /// x [d0, …, d(s−1), ds, …] → [d0, …, d(s−1), ds·…] (<c>torch.flatten(x, start_dim=s)</c>): a reshape that keeps the
    /// leading axes, so a traced program stays valid for every batch size.
    /// </summary>
    public static Var Flatten(Var x, int startAxis = 1)
    {
        if (startAxis < 0 || startAxis >= x.Shape.Rank) throw new ArgumentOutOfRangeException(nameof(startAxis), $"Flatten: start axis {startAxis} of a rank-{x.Shape.Rank} tensor.");
        var dims = new int[startAxis + 1];
        for (int i = 0; i < startAxis; i++) dims[i] = x.Shape[i];
        dims[startAxis] = x.Shape.Size / Math.Max(1, dims.Take(startAxis).Aggregate(1, (a, b) => a * b));
        var r = Reshape(x, dims);
        OpTrace.Op("flatten", r, [x], startAxis);
        return r;
    }

    /// <summary>Elements [start, start + length) along <paramref name="axis"/> (a copy).</summary>
    public static Var Slice(Var x, int axis, int start, int length)
    {
        var y = Ops.SliceAxis(x.Value, axis, start, length);
        var r = Var.Op(y, [x], o =>
        {
            var dx = Tensor.Zeros(x.Shape);
            var idx = Enumerable.Range(start, length).ToArray();
            Ops.IndexAddInPlace(dx, axis, idx, o.Grad!);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
        OpTrace.Op("slice", r, [x], axis, start, length);
        return r;
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
