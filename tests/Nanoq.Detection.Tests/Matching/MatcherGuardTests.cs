namespace Nanoq.Detection.Tests.Matching;

/// <summary><see cref="Matcher"/>'s argument checks and its use of the caller's output buffer, where the mutation run
/// (tools/README.md) found them unpinned.</summary>
public class MatcherGuardTests
{
    [Fact]
    public void EqualThresholdsAreAllowedAndLowAboveHighIsNot()
    {
        // torchvision asserts low_threshold <= high_threshold: equal thresholds mean no in-between band.
        var m = new Matcher(0.5f, 0.5f);
        Assert.Equal([Matcher.BelowLowThreshold, 0], m.Match([0.49f, 0.5f], 1, 2));
        Assert.Throws<ArgumentException>(() => new Matcher(0.4f, 0.5f));
    }

    [Fact]
    public void RejectsMismatchedOrEmptyInputs()
    {
        var m = Matcher.RetinaNet();
        Assert.Throws<ArgumentException>(() => m.Match(new float[5], 2, 3));          // 6 values needed
        Assert.Throws<ArgumentException>(() => m.Match(new float[6], -2, -3, new int[3]));
        // One negative size with an empty matrix: the size check itself must refuse it (not a later emptiness check).
        Assert.Contains("needs", Assert.Throws<ArgumentException>(() => m.Match([], -1, 0, [])).Message);
        // An output buffer of the wrong length is refused before anything is written.
        var longer = new int[4];
        Assert.Contains("outputs", Assert.Throws<ArgumentException>(() => m.Match(new float[6], 2, 3, longer)).Message);
        Assert.Contains("No proposal boxes", Assert.Throws<ArgumentException>(() => m.Match([], 2, 0)).Message);
        Assert.Contains("No ground-truth boxes", Assert.Throws<ArgumentException>(() => m.Match([], 0, 2)).Message);
        Assert.Throws<ArgumentException>(() => m.Match(Tensor.Zeros(6)));
    }

    [Fact]
    public void OutputBufferContentsDoNotLeakIn()
    {
        // Row 0 is the best for every column: the argmax is 0, whatever the buffer held before.
        var m = new Matcher(0.5f, 0.4f);
        var matches = new[] { 7, 7, 7 };
        m.Match([0.9f, 0.8f, 0.7f, 0.1f, 0.2f, 0.3f], 2, 3, matches);
        Assert.Equal([0, 0, 0], matches);
    }
}
