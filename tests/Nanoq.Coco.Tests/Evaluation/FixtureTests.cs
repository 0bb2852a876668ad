using System.Text.Json;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Coco.Tests.Evaluation;

/// <summary>Every case of the pycocotools 2.0.11 reference fixtures (data/cocoeval/README.md) within 1e-4.</summary>
public class FixtureTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in TestData.CocoEvalCases()) data.Add(c);
        return data;
    }

    [Fact]
    public void All16CasesArePresent() => Assert.Equal(16, TestData.CocoEvalCases().Count());

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReproducesPycocotools(string caseName)
    {
        var gt = CocoDataset.Load(TestData.CocoEval(caseName, "gt.json"));
        var dt = CocoResults.Load(TestData.CocoEval(caseName, "dt.json"), gt);
        using var expected = JsonDocument.Parse(File.ReadAllText(TestData.CocoEval(caseName, "expected.json")));
        var want = expected.RootElement.GetProperty("stats").EnumerateArray().Select(e => e.GetDouble()).ToArray();

        var got = CocoEvaluator.Evaluate(gt, dt).Stats.ToArray();

        Assert.Equal(12, want.Length);
        for (int i = 0; i < 12; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 1e-4,
                $"{caseName} {CocoStats.Keys[i]}: got {got[i]:R}, pycocotools {want[i]:R}");
    }
}
