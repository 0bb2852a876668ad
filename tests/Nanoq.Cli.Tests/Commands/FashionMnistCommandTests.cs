using Nanoq.Cli;
using Nanoq.Coco.Datasets;

namespace Nanoq.Cli.Tests.Commands;

public class FashionMnistCommandTests
{
    [Fact]
    public void ATinyRunLearnsSomethingOrSaysWhatIsMissing()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CommandTable.Dispatch(["fashion-mnist", "--epochs", "1", "--train-limit", "1280", "--test-limit", "500"], o, e);
        if (!FashionMnist.IsInstalled())
        {
            // Without Debian's dataset-fashion-mnist the command must say so in one line (.ci/run installs it).
            Assert.Equal(2, code);
            Assert.Contains("dataset-fashion-mnist", e.ToString());
            return;
        }
        Assert.Equal(0, code);
        var line = o.ToString().Trim();
        double acc = double.Parse(line.Split(' ')[2].TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(acc > 40, $"{line}: 10 classes, chance is 10%");
    }

    [Fact]
    public void BadArgumentsAreOneLine()
    {
        var e = new StringWriter();
        Assert.Equal(2, CommandTable.Dispatch(["fashion-mnist", "--epochs", "0"], TextWriter.Null, e));
        Assert.Single(e.ToString().Trim().Split('\n'));
    }
}
