using Nanoq.Autograd;

namespace Nanoq.Tests;

/// <summary>Every differentiable op against central differences (DESIGN.md §3), with odd shapes and broadcasting.</summary>
public class GradCheckTests
{
    private static void AssertGrad(Func<Var[], Var> f, params Tensor[] inputs)
    {
        var r = GradCheck.Check(f, inputs);
        Assert.True(r.Ok, r.Detail);
    }

    [Fact] public void Add_Broadcast() => AssertGrad(v => Fn.Add(v[0], v[1]), TestData.Normal(1, 2, 3, 5), TestData.Normal(2, 3, 1));
    [Fact] public void Sub_Broadcast() => AssertGrad(v => Fn.Sub(v[0], v[1]), TestData.Normal(1, 4, 1), TestData.Normal(2, 1, 7));
    [Fact] public void Mul_Broadcast() => AssertGrad(v => Fn.Mul(v[0], v[1]), TestData.Normal(1, 2, 3, 5), TestData.Normal(2, 5));
    [Fact] public void Div_Broadcast() => AssertGrad(v => Fn.Div(v[0], v[1]), TestData.Normal(1, 3, 4), TestData.Uniform(2, 0.5f, 2f, 3, 1));
    [Fact] public void Scale() => AssertGrad(v => Fn.Scale(v[0], -2.5f), TestData.Normal(1, 7));
    [Fact] public void AddScalar() => AssertGrad(v => Fn.AddScalar(v[0], 3f), TestData.Normal(1, 7));
    [Fact] public void Exp() => AssertGrad(v => Fn.Exp(v[0]), TestData.Normal(1, 3, 5));
    [Fact] public void Log() => AssertGrad(v => Fn.Log(v[0]), TestData.Uniform(1, 0.5f, 3f, 3, 5));
    [Fact] public void Square() => AssertGrad(v => Fn.Square(v[0]), TestData.Normal(1, 11));
    [Fact] public void Sqrt() => AssertGrad(v => Fn.Sqrt(v[0]), TestData.Uniform(1, 0.5f, 3f, 11));
    [Fact] public void Abs() => AssertGrad(v => Fn.Abs(v[0]), TestData.AwayFromZero(1, 0.05f, 13));
    [Fact] public void Relu() => AssertGrad(v => Fn.Relu(v[0]), TestData.AwayFromZero(1, 0.05f, 2, 3, 5));
    [Fact] public void Relu6()
    {
        var x = TestData.Uniform(1, -3f, 9f, 40);
        foreach (ref float v in x.Span) if (MathF.Abs(v) < 0.05f || MathF.Abs(v - 6f) < 0.05f) v += 0.2f;
        AssertGrad(v => Fn.Relu6(v[0]), x);
    }
    [Fact] public void Sigmoid() => AssertGrad(v => Fn.Sigmoid(v[0]), TestData.Normal(1, 17));
    [Fact] public void SumAll() => AssertGrad(v => Fn.Sum(v[0]), TestData.Normal(1, 3, 4));
    [Fact] public void MeanAll() => AssertGrad(v => Fn.Mean(v[0]), TestData.Normal(1, 3, 4));
    [Fact] public void SumAxis() => AssertGrad(v => Fn.Sum(v[0], 1), TestData.Normal(1, 3, 4, 5));
    [Fact] public void MeanAxisKeepDim() => AssertGrad(v => Fn.Mean(v[0], -1, keepDim: true), TestData.Normal(1, 3, 4, 5));
    [Fact] public void Reshape() => AssertGrad(v => Fn.Mul(Fn.Reshape(v[0], 4, -1), Fn.Reshape(v[0], 4, -1)), TestData.Normal(1, 2, 2, 3));
    [Fact] public void Permute() => AssertGrad(v => Fn.Permute(v[0], 2, 0, 1), TestData.Normal(1, 2, 3, 5));
    [Fact] public void Concat() => AssertGrad(v => Fn.Concat([v[0], v[1]], 1), TestData.Normal(1, 2, 3, 2), TestData.Normal(2, 2, 1, 2));
    [Fact] public void Slice() => AssertGrad(v => Fn.Slice(v[0], 1, 1, 3), TestData.Normal(1, 2, 5, 3));
    [Fact] public void IndexSelect_WithRepeats() => AssertGrad(v => Fn.IndexSelect(v[0], 0, [2, 0, 2, 1]), TestData.Normal(1, 3, 4));
    [Fact] public void LogSoftmax() => AssertGrad(v => Fn.LogSoftmax(v[0], 1), TestData.Normal(1, 3, 5, 2));
    [Fact] public void CrossEntropy() => AssertGrad(v => Fn.CrossEntropy(v[0], [1, 0, 4]), TestData.Normal(1, 3, 5));
    [Fact] public void SmoothL1() => AssertGrad(v => Fn.SmoothL1Loss(v[0], TestData.Normal(9, 4, 5), 1f / 9, Reduction.Sum), TestData.Normal(1, 4, 5));
    [Fact] public void L1() => AssertGrad(v => Fn.L1Loss(v[0], TestData.Normal(9, 4, 5)), TestData.Normal(1, 4, 5));

    [Fact] public void MatMul() => AssertGrad(v => Fn.MatMul(v[0], v[1]), TestData.Normal(1, 3, 5), TestData.Normal(2, 5, 4));
    [Fact] public void MatMul_Transposed() => AssertGrad(v => Fn.MatMul(v[0], v[1], transA: true, transB: true), TestData.Normal(1, 5, 3), TestData.Normal(2, 4, 5));
    [Fact] public void Linear() => AssertGrad(v => Fn.Linear(v[0], v[1], v[2]), TestData.Normal(1, 3, 5), TestData.Normal(2, 4, 5), TestData.Normal(3, 4));

    [Theory]
    [InlineData(2, 3, 7, 6, 4, 3, 1, 1, 1, 1)]
    [InlineData(1, 4, 9, 9, 6, 3, 2, 1, 1, 2)]
    [InlineData(1, 3, 10, 11, 5, 3, 1, 2, 2, 1)]
    [InlineData(2, 6, 7, 7, 6, 3, 2, 1, 1, 6)]
    [InlineData(1, 5, 5, 4, 3, 1, 1, 0, 1, 1)]
    public void Conv2d(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int dil, int groups) =>
        AssertGrad(v => Fn.Conv2d(v[0], v[1], v[2], stride, pad, dil, groups),
            TestData.Normal(1, n, cin, h, w), TestData.Normal(2, cout, cin / groups, k, k), TestData.Normal(3, cout));

    [Fact]
    public void BatchNorm_Train() =>
        AssertGrad(v => Fn.BatchNorm2d(v[0], v[1], v[2], Tensor.Zeros(3), Tensor.Ones(3), useBatchStats: true, 0.1f, 1e-5f),
            TestData.Normal(1, 4, 3, 3, 2), TestData.Uniform(2, 0.5f, 1.5f, 3), TestData.Normal(3, 3));

    [Fact]
    public void BatchNorm_Eval() =>
        AssertGrad(v => Fn.BatchNorm2d(v[0], v[1], v[2], TestData.Normal(4, 3), TestData.Uniform(5, 0.5f, 2f, 3), useBatchStats: false, 0.1f, 1e-5f),
            TestData.Normal(1, 2, 3, 3, 2), TestData.Uniform(2, 0.5f, 1.5f, 3), TestData.Normal(3, 3));

    [Fact]
    public void MaxPool()
    {
        // Distinct values so no window has a tie (the derivative of max is undefined at ties).
        var x = Tensor.FromArray(new Rng(7).Permutation(2 * 3 * 7 * 6).Select(i => i * 0.1f).ToArray(), 2, 3, 7, 6);
        AssertGrad(v => Fn.MaxPool2d(v[0], 3, 2, 1), x);
    }

    [Fact] public void AvgPool() => AssertGrad(v => Fn.AvgPool2d(v[0], 3, 2, 1), TestData.Normal(1, 2, 3, 7, 6));
    [Fact] public void GlobalAvgPool() => AssertGrad(v => Fn.GlobalAvgPool(v[0]), TestData.Normal(1, 2, 3, 5, 4));
    [Fact] public void UpsampleNearest() => AssertGrad(v => Fn.UpsampleNearest(v[0], 2), TestData.Normal(1, 2, 3, 3, 5));
}
