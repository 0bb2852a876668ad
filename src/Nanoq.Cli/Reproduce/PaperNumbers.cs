namespace Nanoq.Cli.Reproduce;

/// <summary>
/// The paper's own numbers, each with the address it was read from — and only those. The tables' COCO APs of the FQN
/// paper (Li, Dong, Wang, CVPR 2019) could not be read from any source available while this was written: the stored
/// copies of the paper's pages (paperswithcode, and AQD, arXiv 2007.06919, which compares against FQN) returned their
/// abstracts only, never their tables. So every table cell's paper number is "n/a", and the report says why; a number
/// is added here, with its address, once it has been read from a source. None is recalled from memory.
/// </summary>
public static class PaperNumbers
{
    /// <summary>Where the abstract's claim was read (its last sentence: "The mAP loss due to quantization using our methods is more than 3.8x less than the loss from existing methods").</summary>
    public const string AbstractUrl = "https://www.paperswithcode.com/paper/fully-quantized-network-for-object-detection";

    /// <summary>The abstract's factor: FQN's mAP loss against existing methods' (Table 5's FQN-vs-Jacob claim).</summary>
    public const double LossRatio = 3.8;

    /// <summary>Table numbers by row key (<see cref="PlanRow.PaperKey"/>): AP and the address it was read from. Empty: see the class comment.</summary>
    public static readonly IReadOnlyDictionary<string, (double Ap, string Url)> Ap = new Dictionary<string, (double, string)>();

    /// <summary>The paper's AP for a row, or null ("n/a").</summary>
    public static (double Ap, string Url)? For(string key) => Ap.TryGetValue(key, out var v) ? v : null;

    public const string Missing =
        "The paper's table numbers are n/a: no source available here gave the FQN paper's tables (the stored copies of its " +
        "pages and of AQD, arXiv 2007.06919, which compares against it, returned abstracts only), and none is written from memory. " +
        "The one number read is the abstract's: FQN's mAP loss is \"more than 3.8x less than the loss from existing methods\" (" + AbstractUrl + ").";
}
