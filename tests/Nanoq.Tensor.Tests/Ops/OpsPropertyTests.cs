using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Nanoq.Tests.Ops;

/// <summary>Algebraic invariants of the ops, over generated shapes and seeds.</summary>
public class OpsPropertyTests
{
    private static Gen<int[]> Dims(int minRank, int maxRank, int maxDim) =>
        Gen.Choose(minRank, maxRank).SelectMany(r => Gen.Choose(1, maxDim).ArrayOf(r));

    private static Gen<ulong> Seeds => Gen.Choose(0, int.MaxValue).Select(i => (ulong)i);

    [Property(MaxTest = 60)]
    public Property Max_pool_is_at_least_avg_pool_without_padding() =>
        Prop.ForAll(Gen.Choose(1, 3).SelectMany(k => Gen.Choose(1, 3).Select(s => (k, s))).ToArbitrary(), Seeds.ToArbitrary(), (ks, seed) =>
        {
            var rng = new Rng(seed);
            var x = Data.Tensor(rng, 2, 2, rng.NextInt(ks.k, 9), rng.NextInt(ks.k, 9));
            using var mx = Nanoq.Ops.MaxPool2d(x, ks.k, ks.s, 0);
            using var av = Nanoq.Ops.AvgPool2d(x, ks.k, ks.s, 0);
            return mx.ToArray().Zip(av.ToArray()).All(p => p.First >= p.Second - 1e-6f);
        });

    [Property(MaxTest = 60)]
    public Property Pooling_a_constant_gives_the_constant() =>
        Prop.ForAll(Gen.Choose(-100, 100).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (v, k) =>
        {
            var x = Tensor.Full(new Shape(1, 2, 7, 5), v / 4f);
            using var mx = Nanoq.Ops.MaxPool2d(x, k, 2, k / 2); // padding never wins a max pool
            using var av = Nanoq.Ops.AvgPool2d(x, k, 1, 0);
            return mx.ToArray().All(y => y == v / 4f) && av.ToArray().All(y => Math.Abs(y - v / 4f) < 1e-5f);
        });

    [Property(MaxTest = 100)]
    public Property Permute_then_inverse_permute_is_the_identity() =>
        Prop.ForAll(Dims(1, 5, 5).ToArbitrary(), Seeds.ToArbitrary(), (dims, seed) =>
        {
            var rng = new Rng(seed);
            var perm = rng.Permutation(dims.Length);
            var inverse = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
            var x = Data.Tensor(rng, dims);
            using var y = Nanoq.Ops.Permute(x, perm);
            using var z = Nanoq.Ops.Permute(y, inverse);
            return z.Shape == x.Shape && z.ToArray().SequenceEqual(x.ToArray());
        });

    [Property(MaxTest = 100)]
    public Property Concat_of_split_is_the_identity() =>
        Prop.ForAll(Dims(1, 4, 6).ToArbitrary(), Seeds.ToArbitrary(), (dims, seed) =>
        {
            var rng = new Rng(seed);
            int axis = rng.NextInt(dims.Length);
            var sizes = new List<int>();
            for (int left = dims[axis]; left > 0;)
            {
                int s = rng.NextInt(0, left + 1);
                sizes.Add(s);
                left -= s;
            }
            var x = Data.Tensor(rng, dims);
            var parts = Nanoq.Ops.Split(x, axis, sizes.ToArray());
            using var y = Nanoq.Ops.Concat(parts, axis);
            return y.Shape == x.Shape && y.ToArray().SequenceEqual(x.ToArray());
        });

    [Property(MaxTest = 100)]
    public Property Softmax_sums_to_one_along_its_axis() =>
        Prop.ForAll(Dims(1, 4, 6).ToArbitrary(), Seeds.ToArbitrary(), (dims, seed) =>
        {
            var rng = new Rng(seed);
            int axis = rng.NextInt(dims.Length);
            var x = Data.Tensor(rng, dims);
            Nanoq.Ops.ScaleInPlace(x, 10f);
            using var y = Nanoq.Ops.Softmax(x, axis);
            using var s = Nanoq.Ops.Sum(y, axis);
            return s.ToArray().All(v => Math.Abs(v - 1f) < 1e-5f) && y.ToArray().All(v => v >= 0f && v <= 1f);
        });

    [Property(MaxTest = 100)]
    public Property Reduce_to_shape_is_the_adjoint_of_broadcasting() =>
        // ⟨broadcast(a), g⟩ = ⟨a, ReduceToShape(g, a.Shape)⟩ for every a that broadcasts to g's shape.
        Prop.ForAll(Dims(0, 5, 4).ToArbitrary(), Seeds.ToArbitrary(), (outDims, seed) =>
        {
            var rng = new Rng(seed);
            var aDims = outDims.Skip(rng.NextInt(outDims.Length + 1)).Select(d => rng.NextInt(2) == 0 ? 1 : d).ToArray();
            var a = Data.Tensor(rng, aDims);
            var g = Data.Tensor(rng, outDims);
            using var zeros = Tensor.Zeros(new Shape(outDims));
            using var ba = Nanoq.Ops.Add(zeros, a); // broadcast(a)
            using var r = Nanoq.Ops.ReduceToShape(g, a.Shape);
            return r.Shape == a.Shape && Math.Abs(Data.Dot(ba.Span, g.Span) - Data.Dot(a.Span, r.Span)) < 1e-4;
        });

    [Property(MaxTest = 60)]
    public Property Pad_and_crop_are_adjoint() =>
        Prop.ForAll(Dims(2, 4, 5).ToArbitrary(), Seeds.ToArbitrary(), (dims, seed) =>
        {
            var rng = new Rng(seed);
            int pb = rng.NextInt(3), pr = rng.NextInt(3);
            var x = Data.Tensor(rng, dims);
            using var p = Nanoq.Ops.Pad2d(x, pb, pr);
            var g = Data.Tensor(rng, p.Shape.ToArray());
            using var c = Nanoq.Ops.Crop2d(g, dims[^2], dims[^1]);
            return Math.Abs(Data.Dot(p.Span, g.Span) - Data.Dot(x.Span, c.Span)) < 1e-4;
        });
}
