namespace Nanoq.Tests;

public class ShapeCheckTests
{
    [Fact]
    public void Messages_name_both_shapes()
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(3, 2);
        var ex = Assert.Throws<ArgumentException>(() => ShapeCheck.Same(a, b, "MyOp"));
        Assert.Contains("MyOp", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[3, 2]", ex.Message);
        ShapeCheck.SameSize(a, b, "MyOp");
        ex = Assert.Throws<ArgumentException>(() => ShapeCheck.SameSize(a, Tensor.Zeros(5), "MyOp"));
        Assert.Contains("[5]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ShapeCheck.Rank(a, 4, "Conv", "weight"));
        Assert.Contains("weight", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        ShapeCheck.Same(a, Tensor.Zeros(2, 3), "MyOp");
    }
}
