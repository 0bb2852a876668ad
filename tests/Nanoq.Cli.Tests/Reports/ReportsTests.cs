using Nanoq.Cli.Pipeline;
using Nanoq.Cli.Reports;
using Nanoq.Cli.Terminal;
using Nanoq.Coco;
using Nanoq.Coco.Data;
using Nanoq.Coco.Datasets;
using Nanoq.Coco.Evaluation;
using Nanoq.Coco.Imaging;

namespace Nanoq.Cli.Tests.Reports;

/// <summary>Previews (3x, labelled), the plain forms of the progress bar and the results table, an interrupted evaluation.</summary>
public sealed class ReportsTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("reports");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int, int, int) Pixel(RgbImage img, int x, int y)
    {
        int i = 3 * (y * img.Width + x);
        return (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]);
    }

    [Fact]
    public void A_preview_is_three_times_larger_with_the_box_and_a_text_label()
    {
        var image = new RgbImage(40, 30);
        var drawn = BoxPainter.Draw(image, [(new XyxyBox(10, 12, 30, 28), 1, 0.87f)], ["a", "b"], scale: 3);
        Assert.Equal((120, 90), (drawn.Width, drawn.Height));
        Assert.Equal((60, 180, 75), Pixel(drawn, 30, 60)); // the box's left edge (x 10 → 30), class 1's colour
        Assert.Equal((0, 0, 0), Pixel(drawn, 60, 70));     // inside the box: the image
        // The label "B 0.87" sits above the box (y 36): the class colour with white ink in it, 2x font.
        int labelH = (BoxPainter.Font.Height + 2) * 2;
        var band = Enumerable.Range(0, BoxPainter.TextWidth("b 0.87", 2)).Select(dx => Pixel(drawn, 32 + dx, 36 - labelH + 2 + 2 * 3)).ToList();
        Assert.Contains((60, 180, 75), band);
        Assert.Contains((255, 255, 255), band);
        Assert.Equal(0, image.Pixels.Max()); // the input is not changed
    }

    [Fact]
    public void The_font_has_glyphs_of_five_bits_and_falls_back_to_a_question_mark()
    {
        foreach (char c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-/_: ?")
        {
            var g = BoxPainter.Font.Glyph(c);
            Assert.Equal(BoxPainter.Font.Height, g.Length);
            Assert.All(g, row => Assert.True(row < 32));
        }
        Assert.Equal(BoxPainter.Font.Glyph('a'), BoxPainter.Font.Glyph('A'));
        Assert.Equal(BoxPainter.Font.Glyph('?'), BoxPainter.Font.Glyph('é'));
    }

    [Fact]
    public void Redirected_progress_is_a_plain_line_every_tenth()
    {
        var log = new StringWriter();
        var bar = new ProgressBar(log, "eval float", 20, "batch");
        for (int i = 1; i <= 20; i++) bar.Report(i, i == 20 ? "done" : "");
        bar.Stop();
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Length); // the first report, then one a tenth
        Assert.StartsWith("eval float   5% 1/20 ", lines[0]);
        Assert.StartsWith("eval float  10% 2/20 ", lines[1]);
        Assert.Matches(@"^eval float 100% 20/20 \S+ batch/s ETA 0:00 done$", lines[^1].TrimEnd('\r'));
        Assert.DoesNotContain('\x1b', log.ToString());
    }

    [Fact]
    public void A_redirected_results_table_is_the_plain_text()
    {
        var stats = CocoStats.FromArray(Enumerable.Range(0, 12).Select(i => i == 5 ? -1.0 : i / 100.0).ToArray());
        var w = new StringWriter();
        ResultsTable.Write(w, [("FP32", stats)]);
        Assert.Equal(ResultsTable.Format([("FP32", stats)]), w.ToString());
        Assert.Contains("      -", w.ToString());

        // On a terminal: Spectre.Console's table, the same numbers.
        var t = new StringWriter();
        ResultsTable.Write(t, [("FP32", stats), ("INT4 integer-only", stats)], interactive: true, width: 140);
        Assert.Contains("│ INT4 integer-only │", t.ToString());
        foreach (var s in new[] { "FP32", "AR100", "11.0", "COCO AP/AR in %" }) Assert.Contains(s, t.ToString());

        // A terminal too narrow for it: the plain text rather than a squeezed table.
        var narrow = new StringWriter();
        ResultsTable.Write(narrow, [("FP32", stats)], interactive: true, width: 80);
        Assert.Equal(ResultsTable.Format([("FP32", stats)]), narrow.ToString());
    }

    [Fact]
    public void A_cancelled_evaluation_stops_before_the_next_batch()
    {
        string d = Path.Combine(_dir, "data");
        BundledDatasets.Write(BundledDatasets.Create("shapes", 64, 3), d, 2, 4, 3);
        var val = CocoFolder.OpenLayout(Path.Combine(d, "val"));
        using var cts = new CancellationTokenSource();
        int calls = 0;
        var ex = Assert.ThrowsAny<OperationCanceledException>(() => DetectorEvaluation.Evaluate((images, sizes) =>
        {
            calls++;
            cts.Cancel(); // Ctrl-C during the first batch
            return sizes.Select(_ => new Detection.Detections([], [], [])).ToList();
        }, val, new TransformOptions { ShorterSide = 64, MaxLongerSide = 64 }, 2, TextWriter.Null, "eval float", cts.Token));
        Assert.Equal(1, calls);
        Assert.Contains("interrupted after 1 of 2 batches", ex.Message);
    }
}
