namespace Nanoq.Tests;

public class ShapeTests
{
    [Fact]
    public void Size_rank_strides_and_axes()
    {
        var s = new Shape(2, 3, 4);
        Assert.Equal(3, s.Rank);
        Assert.Equal(24, s.Size);
        Assert.Equal(12, s.Stride(0));
        Assert.Equal(4, s.Stride(1));
        Assert.Equal(1, s.Stride(-1));
        Assert.Equal(4, s[-1]);
        Assert.Equal(2, s.Axis(-1));
        Assert.Equal(12, s.SizeOf(1, 3));
        Assert.Equal(new Shape(2, 5, 4), s.With(1, 5));
        Assert.Equal("[2, 3, 4]", s.ToString());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => s.Axis(3));
        Assert.Contains("[2, 3, 4]", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Axis(-4));
    }

    [Fact]
    public void Scalars_and_empty_shapes()
    {
        Assert.Equal(0, new Shape().Rank);
        Assert.Equal(1, new Shape().Size);
        Assert.Equal(1, default(Shape).Size); // a default Shape is the scalar shape too
        Assert.Equal(new Shape(), default(Shape));
        Assert.Equal("[]", default(Shape).ToString());
        Assert.Equal(0, new Shape(3, 0, 2).Size);
    }

    [Fact]
    public void Equality_is_by_dimensions_and_the_array_is_copied()
    {
        var dims = new[] { 2, 3 };
        var s = new Shape(dims);
        dims[0] = 9;
        Assert.Equal(new Shape(2, 3), s);
        Assert.True(s == new Shape(2, 3));
        Assert.True(s != new Shape(3, 2));
        Assert.Equal(new Shape(2, 3).GetHashCode(), s.GetHashCode());
        var arr = s.ToArray();
        arr[0] = 7;
        Assert.Equal(2, s[0]);
        Shape implicitShape = new[] { 4, 5 };
        Assert.Equal(20, implicitShape.Size);
    }

    [Fact]
    public void Invalid_dimensions_throw()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Shape(2, -1));
        Assert.Contains("negative", ex.Message);
        Assert.Throws<ArgumentException>(() => new Shape(65536, 65536));
    }
}
