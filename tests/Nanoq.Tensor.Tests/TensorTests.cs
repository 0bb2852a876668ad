namespace Nanoq.Tests;

public class TensorTests
{
    [Fact]
    public void Construction_and_element_access()
    {
        using var z = Tensor.Zeros(2, 3);
        Assert.All(z.ToArray(), v => Assert.Equal(0f, v));
        using var f = Tensor.Full(new Shape(2), 3.5f);
        Assert.Equal([3.5f, 3.5f], f.ToArray());
        Assert.Equal([1f, 1f, 1f], Tensor.Ones(3).ToArray());
        var s = Tensor.Scalar(2.5f);
        Assert.Equal(0, s.Rank);
        Assert.Equal(2.5f, s.ToScalar());
        var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Assert.Equal(6f, t[1, 2]);
        t[0, 1] = 9f;
        Assert.Equal(9f, t.Buffer[1]);
        Assert.Equal(new Shape(6), Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f]).Shape);
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f], 3));
        Assert.Throws<IndexOutOfRangeException>(() => t[2, 0]);
        Assert.Throws<ArgumentException>(() => t[1]);
        Assert.Throws<InvalidOperationException>(() => t.ToScalar());
        Assert.Contains("[2, 3]", t.ToString());
    }

    [Fact]
    public void Reshape_infers_minus_one_and_shares_the_buffer()
    {
        var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var r = t.Reshape(6, -1);
        Assert.Equal(new Shape(6, 4), r.Shape);
        Assert.Same(t.Buffer, r.Buffer);
        Assert.False(r.OwnsBuffer);
        r[5, 3] = -1f;
        Assert.Equal(-1f, t[1, 2, 3]);
        Assert.Equal(new Shape(24), t.Reshape(-1).Shape);
        Assert.Equal(new Shape(2, 0), Tensor.Zeros(0, 3).Reshape(2, 0).Shape);
        var ex = Assert.Throws<ArgumentException>(() => t.Reshape(5, -1));
        Assert.Contains("[2, 3, 4]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => t.Reshape(5, 5));
        Assert.Contains("[2, 3, 4]", ex.Message);
        Assert.Contains("[5, 5]", ex.Message);
        Assert.Throws<ArgumentException>(() => t.Reshape(-1, -1));
    }

    [Fact]
    public void Slice_and_at_are_views_on_the_first_axis()
    {
        var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 4, 3, 2);
        var s = t.Slice(1, 2);
        Assert.Equal(new Shape(2, 3, 2), s.Shape);
        Assert.Equal(6, s.Offset);
        Assert.Equal(6f, s[0, 0, 0]);
        var a = t.At(3);
        Assert.Equal(new Shape(3, 2), a.Shape);
        Assert.Equal(18f, a[0, 0]);
        a[2, 1] = -5f;
        Assert.Equal(-5f, t[3, 2, 1]);
        // A view of a view.
        var aa = s.At(1).At(2);
        Assert.Equal(new Shape(2), aa.Shape);
        Assert.Equal([16f, 17f], aa.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.At(4));
        Assert.Throws<InvalidOperationException>(() => Tensor.Scalar(1f).At(0));
        Assert.Equal(0, t.Slice(4, 0).Size);
    }

    [Fact]
    public void Clone_copy_fill_and_dispose()
    {
        var t = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        using var c = t.Clone();
        Assert.NotSame(t.Buffer, c.Buffer);
        Assert.Equal(t.ToArray(), c.ToArray());
        c.Fill(7f);
        Assert.Equal(1f, t[0, 0]);
        t.CopyFrom(c);
        Assert.Equal(7f, t[1, 1]);
        var ex = Assert.Throws<ArgumentException>(() => t.CopyFrom(Tensor.Zeros(3)));
        Assert.Contains("[2, 2]", ex.Message);
        Assert.Contains("[3]", ex.Message);
        t.Clear();
        Assert.Equal(0f, t[0, 1]);

        var owned = Tensor.Empty(2048);
        Assert.True(owned.OwnsBuffer);
        owned.Dispose();
        owned.Dispose(); // idempotent
        Assert.False(owned.OwnsBuffer);
        var wrapped = t.Buffer;
        t.Dispose(); // wrapped arrays are never pooled or detached
        Assert.Same(wrapped, t.Buffer);
    }
}
