using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Taps;

namespace Nanoq.Detection;

/// <summary>
/// RetinaNet (Lin et al. 2017), the one-stage detector of the FQN paper: backbone C3–C5 → FPN P3–P7 → shared class
/// and box subnets; 9 anchors a location; sigmoid focal loss normalized by foreground anchors plus L1 box loss;
/// inference by per-level score threshold and top-k, decoding, class-wise NMS (DESIGN.md §6, torchvision's
/// retinanet.py semantics). The normalized input image passes the "input" tap, so quantization covers it too.
/// Children: <c>backbone</c>, <c>fpn</c>, <c>head</c>. Raw outputs (<see cref="IDetector"/>): the class maps of the L
/// pyramid levels [N, A·K, H_l, W_l], then their box maps [N, A·4, H_l, W_l]; loss and postprocessing read them as
/// logits [N, ΣHWA, K] and deltas [N, ΣHWA, 4] (<see cref="RetinaNetHead.Flatten"/>).
/// </summary>
public sealed class RetinaNet : Module, IDetector
{
    private readonly IBackbone _backbone;
    private readonly ActivationSite _input;
    private readonly Dictionary<(int, int), Tensor> _anchorCache = new();

    public RetinaNet(RetinaNetConfig config, ulong seed = 0)
    {
        config.Validate();
        Config = config;
        var rng = new Rng(seed);
        _backbone = DetectionBackbones.Create(config.Backbone, config.BackboneWidth, rng);
        Child("backbone", (Module)_backbone);
        Fpn = Child("fpn", new FeaturePyramid(_backbone.StageChannels[1..], config.FpnChannels, rng.Fork(),
                                              config.P6FromP5 ? FpnLastLevel.P6P7FromP5 : FpnLastLevel.P6P7));
        Anchors = AnchorGenerator.RetinaNet(config.AnchorSize);
        Head = Child("head", new RetinaNetHead(config.FpnChannels, Anchors.NumAnchorsPerLocation(0), config.NumClasses,
                                               config.HeadConvs, config.PriorProbability, config.ScoreThreshold, rng.Fork()));
        _input = Tap("input", new ActivationSite());
        Coder = new BoxCoder(1f, 1f, 1f, 1f);
        Matcher = new Matcher(config.FgIou, config.BgIou, allowLowQualityMatches: true);
    }

    public RetinaNetConfig Config { get; }
    public Module Backbone => (Module)_backbone;

    public Module Network => this;
    public string Kind => "retinanet";
    IDetectorConfig IDetector.Config => Config;
    public string ConfigJson => Detectors.ToJson(Config);
    public int NumClasses => Config.NumClasses;

    /// <summary>The "input" tap where the normalized image is quantized (read-only, for conversion to the integer runtime).</summary>
    public ActivationSite InputSite => _input;

    public FeaturePyramid Fpn { get; }
    public RetinaNetHead Head { get; }
    public AnchorGenerator Anchors { get; }
    public BoxCoder Coder { get; }
    public Matcher Matcher { get; }

    /// <summary>
    /// images [N, 3, H, W] (normalized, H and W multiples of 32 for exact 2× top-down steps) → the raw class and box maps.
    /// The image sizes are not needed here (the postprocess clips to them).
    /// </summary>
    public DetectorOutput Forward(Var images, IReadOnlyList<(int Height, int Width)>? imageSizes = null)
    {
        ShapeCheck.Rank(images.Value, 4, nameof(RetinaNet), "images");
        var x = _input.Forward(images);
        var levels = Fpn.Forward(_backbone.Stages(x));
        var (cls, box) = Head.Forward(levels);
        return new DetectorOutput([.. cls, .. box], images.Shape[2], images.Shape[3]);
    }

    /// <summary>The grid size of each pyramid level.</summary>
    public static (int Height, int Width)[] GridSizes(DetectorOutput o) =>
        o.Outputs.Take(o.Outputs.Count / 2).Select(m => (m.Shape[2], m.Shape[3])).ToArray();

    /// <summary>(logits [N, A, K], deltas [N, A, 4]) over all anchors, levels concatenated (graph ops: the loss differentiates through them).</summary>
    public (Var Logits, Var Deltas) Heads(DetectorOutput o)
    {
        int l = o.Outputs.Count / 2;
        if (o.Outputs.Count != 2 * l || l == 0) throw new ArgumentException($"RetinaNet: {o.Outputs.Count} raw outputs are not class and box maps of each level.");
        return (Head.Flatten(o.Outputs.Take(l).ToList(), NumClasses), Head.Flatten(o.Outputs.Skip(l).ToList(), 4));
    }

    /// <summary>Anchors [A, 4] for a padded input size (cached: a data set of one input size computes them once).</summary>
    public Tensor AnchorsFor(DetectorOutput o)
    {
        if (!_anchorCache.TryGetValue((o.ImageHeight, o.ImageWidth), out var a))
            _anchorCache[(o.ImageHeight, o.ImageWidth)] = a = Anchors.Generate(o.ImageHeight, o.ImageWidth, GridSizes(o));
        return a;
    }

    /// <summary>
    /// The training losses for a batch. Each anchor is matched to the ground truth (IoU ≥ fg → that box's class,
    /// &lt; bg → background, between → ignored; each box keeps its best anchors); the focal loss runs over all
    /// non-ignored anchors and the L1 box loss over foreground anchors, both divided by the image's foreground
    /// count (at least 1) and averaged over the images, as torchvision.
    /// </summary>
    public DetectorLosses Loss(DetectorOutput output, IReadOnlyList<DetectionTarget> targets)
    {
        var o = Heads(output);
        var anchors = AnchorsFor(output);
        int n = o.Logits.Shape[0], a = o.Logits.Shape[1], k = o.Logits.Shape[2];
        if (targets.Count != n) throw new ArgumentException($"{targets.Count} targets for a batch of {n} images.");
        // [N·A] rows: pooled, since every step needs a pair this size (hundreds of KB, the large-object heap otherwise).
        var rowLabels = TensorPool.RentInt(n * a);
        var rowWeights = TensorPool.Rent(n * a);
        var fgRows = new List<int>();
        var fgTargets = new List<float>();
        var fgWeights = new List<float>();
        var matches = new int[a];
        var enc = new float[4];
        int totalFg = 0;
        for (int i = 0; i < n; i++)
        {
            var t = targets[i];
            var labels = rowLabels.AsSpan(i * a, a);
            if (t.Count == 0)
            {
                labels.Fill(SigmoidFocalLoss.Background);
                rowWeights.AsSpan(i * a, a).Fill(1f / n);
                continue;
            }
            // [G, A] IoU matrix: pooled, since each step needs one this size per image (hundreds of KB).
            var iou = TensorPool.Rent(t.Count * a);
            Boxes.Iou(t.Boxes, anchors.Span, iou.AsSpan(0, t.Count * a));
            Matcher.Match(iou.AsSpan(0, t.Count * a), t.Count, a, matches);
            TensorPool.Return(iou);
            int fg = 0;
            for (int j = 0; j < a; j++)
            {
                int m = matches[j];
                labels[j] = m >= 0 ? t.Labels[m] : m == Matcher.BelowLowThreshold ? SigmoidFocalLoss.Background : SigmoidFocalLoss.Ignore;
                if (m >= 0) fg++;
            }
            totalFg += fg;
            float w = 1f / (Math.Max(1, fg) * n);
            rowWeights.AsSpan(i * a, a).Fill(w);
            for (int j = 0; j < a; j++)
            {
                int m = matches[j];
                if (m < 0) continue;
                fgRows.Add(i * a + j);
                Coder.EncodeSingle(t.Boxes.AsSpan(4 * m, 4), anchors.Span.Slice(4 * j, 4), enc);
                fgTargets.AddRange(enc);
                fgWeights.Add(w);
            }
        }
        var cls = SigmoidFocalLoss.Forward(Fn.Reshape(o.Logits, n * a, k), rowLabels, rowWeights, Config.FocalAlpha, Config.FocalGamma);
        TensorPool.Return(rowLabels);
        TensorPool.Return(rowWeights);
        Var box;
        if (fgRows.Count == 0) box = Fn.Scale(Fn.Sum(o.Deltas), 0f); // keeps the graph connected, value 0
        else
        {
            var pred = Fn.IndexSelect(Fn.Reshape(o.Deltas, n * a, 4), 0, fgRows.ToArray());
            var l1 = Fn.L1Loss(pred, Tensor.FromArray(fgTargets.ToArray(), fgRows.Count, 4), Reduction.None);
            box = Fn.Sum(Fn.Mul(l1, new Var(Tensor.FromArray(fgWeights.ToArray(), fgRows.Count, 1))));
        }
        return new DetectorLosses([("classification", cls), ("box", box)], totalFg);
    }

    /// <summary>
    /// Detections per image: per level, scores σ(logit) above the threshold, the top-k of them, decoded against their
    /// anchors and clipped to the image's own (unpadded) size; then class-wise NMS over all levels and the best
    /// <see cref="RetinaNetConfig.MaxDetections"/>. Boxes thinner than 1e-3 px are dropped (COCO rejects them).
    /// </summary>
    public IReadOnlyList<Detections> Postprocess(DetectorOutput output, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        var o = Heads(output);
        int n = o.Logits.Shape[0], a = o.Logits.Shape[1], k = o.Logits.Shape[2];
        return RetinaNetDecoding.Detect(Config, Anchors, Coder, AnchorsFor(output).Span, o.Logits.Value.Span, o.Deltas.Value.Span,
                                        n, a, k, GridSizes(output), imageSizes);
    }

    /// <summary>Inference without the graph: forward and postprocess.</summary>
    public IReadOnlyList<Detections> Detect(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes) => Detectors.Detect(this, images, imageSizes);
}
