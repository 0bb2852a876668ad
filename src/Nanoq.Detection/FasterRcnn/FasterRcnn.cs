using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Integer.Program;

namespace Nanoq.Detection;

/// <summary>
/// Faster R-CNN with FPN as torchvision's <c>fasterrcnn_resnet50_fpn</c> (0.14; DESIGN.md §6): backbone C2–C5 → FPN
/// P2–P5 plus P6 = max_pool(P5, 1, 2) → a shared RPN head (3 anchors a location, one size a level) → proposals (float:
/// decoding, per-level top-n, clipping, NMS 0.7) → MultiScaleRoIAlign 7×7, sampling 2, over P2–P5 → the "roi_pool"
/// activation site (the pooled RoI features are quantized, as FQN quantizes RoIAlign outputs) → flatten → TwoMLPHead
/// (fc6, fc7 + ReLU) → predictor (class logits over K + 1, class-specific deltas with weights 10, 10, 5, 5).
/// Children: <c>backbone</c>, <c>fpn</c>, <c>rpn_head</c>, <c>box_head</c>, <c>box_predictor</c>; taps <c>input</c>
/// and <c>roi_pool</c>.
/// <para>
/// The two stages meet at float box geometry (the proposals), so <see cref="Forward"/> depends on the mode:
/// <list type="bullet">
/// <item>evaluation: the whole network. Raw outputs = [objectness maps of the L = 5 levels [N, A, H_l, W_l]…, delta maps
/// [N, 4A, H_l, W_l]…, class logits [R, K + 1], box deltas [R, 4(K + 1)]] where R = Σ P_i proposals, images in order;
/// the proposals ride along in <see cref="FasterRcnnState"/> for <see cref="Postprocess"/>.</item>
/// <item>training: the RPN stage only. Raw outputs = the 2L RPN maps; the state keeps P2–P5, and <see cref="Loss"/> —
/// which has the targets torchvision's forward takes — adds the ground truth to the proposals, samples RoIs, and runs
/// RoIAlign and the box head on them through the same taps.</item>
/// </list>
/// Calibration runs in evaluation mode, so it reaches every tap. In the integer program (<see cref="Detectors.Convert"/>)
/// RoIAlign is one op whose RoIs the host supplies mid-run (<see cref="IStagedDetector"/>, <see cref="FasterRcnnSideInputs"/>). Proposals are clipped to each
/// image's own size when the caller gives it (inference, as torchvision), else to the padded input (training, where the
/// loader's batches of one size make the two the same but for padding); the detections are clipped to each image's own size.
/// </para>
/// </summary>
public sealed class FasterRcnn : Module, IDetector, IStepSeeded, IStagedDetector
{
    private readonly IBackbone _backbone;
    private readonly ActivationSite _input, _roiPool;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int), Tensor> _anchorCache = new(); // integer runs by groups of images read it side by side

    public FasterRcnn(FasterRcnnConfig config, ulong seed = 0)
    {
        config.Validate();
        Config = config;
        var rng = new Rng(seed);
        _backbone = DetectionBackbones.Create(config.Backbone, config.BackboneWidth, rng);
        Child("backbone", (Module)_backbone);
        Fpn = Child("fpn", new FeaturePyramid(_backbone.StageChannels, config.FpnChannels, rng.Fork(), FpnLastLevel.MaxPool));
        Anchors = RpnAnchors.FasterRcnn(config.AnchorSize, Fpn.NumLevels);
        RpnHead = Child("rpn_head", new RpnHead(config.FpnChannels, Anchors.NumAnchorsPerLocation(0), rng.Fork()));
        Pooler = new MultiScaleRoiAlign(config.RoiPooledSize, config.RoiPooledSize, config.RoiSamplingRatio, config.RoiCanonicalScale);
        int pooled = config.FpnChannels * config.RoiPooledSize * config.RoiPooledSize;
        BoxHead = Child("box_head", new TwoMlpHead(pooled, config.RepresentationSize, rng.Fork()));
        BoxPredictor = Child("box_predictor", new FastRcnnPredictor(config.RepresentationSize, config.NumClasses + 1, rng.Fork()));
        _input = Tap("input", new ActivationSite());
        _roiPool = Tap("roi_pool", new ActivationSite());
        RpnMatcher = new Matcher(config.RpnFgIou, config.RpnBgIou, allowLowQualityMatches: true);
        RpnSampler = new BalancedPositiveNegativeSampler(config.RpnBatchSizePerImage, config.RpnPositiveFraction);
        BoxSampler = new BalancedPositiveNegativeSampler(config.BoxBatchSizePerImage, config.BoxPositiveFraction);
        Postprocessor = new RoiHeadPostprocessor(config.ScoreThreshold, config.NmsThreshold, config.MaxDetections);
    }

    public FasterRcnnConfig Config { get; }
    public Module Backbone => (Module)_backbone;

    public Module Network => this;
    public string Kind => "faster-rcnn";
    IDetectorConfig IDetector.Config => Config;
    public string ConfigJson => Detectors.ToJson(Config);
    public int NumClasses => Config.NumClasses;

    /// <inheritdoc/>
    public int Step { get; set; }

    /// <summary>The "input" tap where the normalized image is quantized.</summary>
    public ActivationSite InputSite => _input;

    /// <summary>The "roi_pool" tap: the pooled RoI features [R, C, P, P], quantized before flattening.</summary>
    public ActivationSite RoiPoolSite => _roiPool;

    public FeaturePyramid Fpn { get; }
    public RpnHead RpnHead { get; }
    public AnchorGenerator Anchors { get; }
    public MultiScaleRoiAlign Pooler { get; }
    public TwoMlpHead BoxHead { get; }
    public FastRcnnPredictor BoxPredictor { get; }
    public Matcher RpnMatcher { get; }
    public BalancedPositiveNegativeSampler RpnSampler { get; }
    public BalancedPositiveNegativeSampler BoxSampler { get; }
    public RoiHeadPostprocessor Postprocessor { get; }

    /// <summary>The proposal filter of the current mode (torchvision's pre/post NMS top-n for training or testing).</summary>
    public RpnProposalFilter ProposalFilter => Training
        ? new RpnProposalFilter(Config.RpnPreNmsTopNTrain, Config.RpnPostNmsTopNTrain, Config.RpnNmsThreshold)
        : TestProposalFilter;

    /// <summary>The proposal filter at test time (the integer runtime's too).</summary>
    public RpnProposalFilter TestProposalFilter => new(Config.RpnPreNmsTopNTest, Config.RpnPostNmsTopNTest, Config.RpnNmsThreshold);

    /// <summary>
    /// images [N, 3, H, W] (normalized, H and W multiples of 32) → the raw outputs of the mode (see the class comment),
    /// with the proposals in <see cref="DetectorOutput.State"/> (a <see cref="FasterRcnnState"/>).
    /// </summary>
    public DetectorOutput Forward(Var images, IReadOnlyList<(int Height, int Width)>? imageSizes = null)
    {
        ShapeCheck.Rank(images.Value, 4, nameof(FasterRcnn), "images");
        int h = images.Shape[2], w = images.Shape[3];
        var (levels, obj, del) = Rpn(images);
        var proposals = Propose(obj, del, h, w, ProposalFilter, imageSizes);
        var features = levels[..^1];                          // the RoIs pool from P2–P5 (torchvision's featmap_names 0–3)
        if (Training) return new DetectorOutput([.. obj, .. del], h, w, new FasterRcnnState(proposals, levels.Length, features));
        var (logits, deltas) = BoxStage(features, proposals, h, w);
        return new DetectorOutput([.. obj, .. del, logits, deltas], h, w, new FasterRcnnState(proposals, levels.Length, null));
    }

    /// <summary>
    /// The first stage, up to the proposals: [objectness maps of the L levels…, delta maps…, P2, P3, P4, P5] — the RPN's
    /// raw outputs and the levels the RoIs pool from (<see cref="IStagedDetector.FirstStage"/>).
    /// </summary>
    public IReadOnlyList<Var> FirstStage(Var images)
    {
        ShapeCheck.Rank(images.Value, 4, nameof(FasterRcnn), "images");
        var (levels, obj, del) = Rpn(images);
        return [.. obj, .. del, .. levels[..^1]];
    }

    /// <summary>The network up to the RPN: the input site, backbone, FPN (P2–P6) and the RPN head's maps of each level.</summary>
    private (Var[] Levels, Var[] Objectness, Var[] Deltas) Rpn(Var images)
    {
        var levels = Fpn.Forward(_backbone.Stages(_input.Forward(images))); // P2, P3, P4, P5, P6
        var (obj, del) = RpnHead.Forward(levels);
        return (levels, obj, del);
    }

    /// <summary>
    /// The RoI stage on given boxes (flat [P_i·4] per image): MultiScaleRoIAlign → roi_pool site → flatten → TwoMLPHead
    /// → predictor: (class logits [R, K + 1], box deltas [R, 4(K + 1)]).
    /// </summary>
    public (Var ClassLogits, Var BoxDeltas) BoxStage(IReadOnlyList<Var> features, IReadOnlyList<float[]> boxesPerImage, int height, int width)
    {
        var sizes = Enumerable.Repeat((height, width), boxesPerImage.Count).ToArray();
        var pooled = _roiPool.Forward(Pooler.Forward(features, boxesPerImage, sizes)); // [R, C, P, P]
        return BoxPredictor.Forward(BoxHead.Forward(Fn.Flatten(pooled, 1)));           // [R, C·P·P] → [R, D] → heads
    }

    /// <summary>Anchors [A, 4] for a padded input size and the RPN's grid sizes (cached by input size).</summary>
    public Tensor AnchorsFor(int height, int width, (int Height, int Width)[] gridSizes)
    {
        return _anchorCache.GetOrAdd((height, width), _ => Anchors.Generate(height, width, gridSizes));
    }

    /// <summary>
    /// The RPN's proposals of each image, in float and without gradient (torchvision detaches them): the maps are read
    /// in <see cref="RpnHeadLayout"/>'s order (level, y, x, anchor), decoded against the anchors, and filtered
    /// (<see cref="RpnProposalFilter"/>: per-level top-n, clip, small boxes, NMS 0.7 per level, post-NMS top-n).
    /// </summary>
    public float[][] Propose(IReadOnlyList<Var> objectness, IReadOnlyList<Var> deltas, int height, int width) =>
        Propose(objectness, deltas, height, width, ProposalFilter);

    /// <summary>
    /// As <see cref="Propose(IReadOnlyList{Var}, IReadOnlyList{Var}, int, int)"/> with a given filter, clipping each image's
    /// proposals to its own size (null: the padded height × width).
    /// </summary>
    public float[][] Propose(IReadOnlyList<Var> objectness, IReadOnlyList<Var> deltas, int height, int width, RpnProposalFilter filter,
                             IReadOnlyList<(int Height, int Width)>? imageSizes = null)
    {
        int n = objectness[0].Shape[0], levels = objectness.Count;
        var grids = objectness.Select(o => (o.Shape[2], o.Shape[3])).ToArray();
        var anchors = AnchorsFor(height, width, grids);
        var perLevel = new int[levels];
        for (int l = 0; l < levels; l++) perLevel[l] = grids[l].Item1 * grids[l].Item2 * objectness[l].Shape[1];
        int a = perLevel.Sum();
        if (imageSizes is not null && imageSizes.Count != n) throw new ArgumentException($"FasterRcnn: {imageSizes.Count} image sizes for a batch of {n}.");
        var sizes = imageSizes?.ToArray() ?? Enumerable.Repeat((height, width), n).ToArray();
        // Two arrays of up to a few MB a forward: pooled, so a batch's proposals do not churn the large-object heap.
        var obj = System.Buffers.ArrayPool<float>.Shared.Rent(n * a);
        var del = System.Buffers.ArrayPool<float>.Shared.Rent(4 * n * a);
        try
        {
            for (int i = 0; i < n; i++)
            {
                int offset = i * a;
                for (int l = 0; l < levels; l++)
                {
                    int na = objectness[l].Shape[1], hw = grids[l].Item1 * grids[l].Item2;
                    var o = objectness[l].Value.Span.Slice(i * na * hw, na * hw);   // [A, H·W] of image i
                    var d = deltas[l].Value.Span.Slice(i * 4 * na * hw, 4 * na * hw); // [A, 4, H·W]
                    for (int p = 0; p < hw; p++)
                        for (int k = 0; k < na; k++)
                        {
                            int row = offset + p * na + k;
                            obj[row] = o[k * hw + p];
                            for (int c = 0; c < 4; c++) del[4 * row + c] = d[(k * 4 + c) * hw + p];
                        }
                    offset += perLevel[l];
                }
            }
            // The deltas are decoded inside the filter, only for the anchors its per-level top-n keeps.
            var anchorBoxes = new ReadOnlyMemory<float>(anchors.Buffer, anchors.Offset, anchors.Size);
            return filter.Filter(del, anchorBoxes, obj, a, perLevel, sizes).Select(p => p.Boxes).ToArray();
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(obj);
            System.Buffers.ArrayPool<float>.Shared.Return(del);
        }
    }

    private static FasterRcnnState StateOf(DetectorOutput o) =>
        o.State as FasterRcnnState ?? throw new ArgumentException("FasterRcnn: the output carries no proposals (FasterRcnnState); it did not come from FasterRcnn.Forward.");

    /// <summary>
    /// The training losses of a batch (torchvision's names in brackets), each normalized as torchvision:
    /// <list type="bullet">
    /// <item>"objectness" [loss_objectness], "rpn_box" [loss_rpn_box_reg]: <see cref="RpnLoss"/> over 256 sampled anchors an
    /// image (<see cref="RpnTargets"/>: fg IoU 0.7, bg 0.3, low-quality matches);</item>
    /// <item>"classification" [loss_classifier], "box" [loss_box_reg]: <see cref="FastRcnnLoss"/> over the RoIs sampled
    /// from proposals + ground truth (<see cref="RoiHeadTargets"/>: 512 at 25% foreground, IoU 0.5).</item>
    /// </list>
    /// Both samplers draw from Rng.Derive(SamplerSeed, Step). Needs a training-mode output (the pyramid levels in its state).
    /// </summary>
    public DetectorLosses Loss(DetectorOutput output, IReadOnlyList<DetectionTarget> targets)
    {
        var st = StateOf(output);
        if (st.Features is null) throw new ArgumentException("FasterRcnn.Loss: needs a training-mode forward (the RoI stage samples its RoIs there).");
        int l = st.NumLevels, n = output.Outputs[0].Shape[0];
        if (targets.Count != n) throw new ArgumentException($"{targets.Count} targets for a batch of {n} images.");
        var obj = output.Outputs.Take(l).ToArray();
        var del = output.Outputs.Skip(l).Take(l).ToArray();
        var grids = obj.Select(o => (o.Shape[2], o.Shape[3])).ToArray();
        var anchors = AnchorsFor(output.ImageHeight, output.ImageWidth, grids).Span;
        var rng = Rng.Derive(Config.SamplerSeed, (ulong)Step);

        // RPN: anchors against the ground truth.
        var (objFlat, delFlat) = RpnHeadLayout.Concat(obj, del);
        var labels = new int[n][];
        var regression = new float[n][];
        for (int i = 0; i < n; i++)
        {
            var (lab, matched) = RpnTargets.AssignTargetsToAnchors(anchors, targets[i].Boxes, RpnMatcher);
            labels[i] = lab;
            regression[i] = RpnTargets.RegressionTargets(matched, anchors);
        }
        var rpn = RpnLoss.Compute(objFlat, delFlat, labels, regression, RpnSampler, rng);

        // RoI heads: proposals + ground truth, sampled, pooled and classified.
        var samples = new RoiHeadSamples[n];
        for (int i = 0; i < n; i++)
            samples[i] = RoiHeadTargets.Select(st.Proposals[i], targets[i].Boxes, targets[i].Labels, BoxSampler, rng);
        var (logits, deltas) = BoxStage(st.Features, samples.Select(s => s.Proposals).ToArray(), output.ImageHeight, output.ImageWidth);
        var classes = samples.SelectMany(s => s.Classes).ToArray();
        var regTargets = samples.SelectMany(s => s.RegressionTargets).ToArray();
        var box = FastRcnnLoss.Compute(logits, deltas, classes, Tensor.FromArray(regTargets, classes.Length, 4));
        return new DetectorLosses([.. rpn.Terms, .. box.Terms], box.Foreground);
    }

    /// <summary>
    /// Detections per image (<see cref="RoiHeadPostprocessor"/>: softmax, class-specific decoding against the proposals,
    /// clip to the image's own size, score &gt; 0.05, class-wise NMS 0.5, the best 100). Needs an evaluation-mode output.
    /// </summary>
    public IReadOnlyList<Detections> Postprocess(DetectorOutput output, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var st = StateOf(output);
        if (output.Outputs.Count != 2 * st.NumLevels + 2)
            throw new ArgumentException($"FasterRcnn.Postprocess: {output.Outputs.Count} raw outputs; an evaluation-mode forward gives {2 * st.NumLevels + 2} (RPN maps, class logits, box deltas).");
        return Postprocessor.Postprocess(output.Outputs[^2].Value, output.Outputs[^1].Value, st.Proposals, imageSizes);
    }

    /// <summary>The integer runtime's host side: proposals from the dequantized RPN maps, RoIAlign plans (<see cref="FasterRcnnSideInputs"/>).</summary>
    public (IIntSideInputs SideInputs, Func<object?> State) IntegerRun(IntegerModel model, int height, int width,
                                                                       IReadOnlyList<(int Height, int Width)>? imageSizes = null)
    {
        var side = new FasterRcnnSideInputs(this, model, height, width, imageSizes);
        return (side, () => side.Proposals is { } p ? new FasterRcnnState(p, Fpn.NumLevels, null) : null);
    }

    public object? JoinStates(IReadOnlyList<object?> states) =>
        states.All(s => s is null) ? null
            : new FasterRcnnState(states.SelectMany(s => (s as FasterRcnnState ?? throw new ArgumentException("FasterRcnn.JoinStates: a group's run gave no proposals.")).Proposals).ToArray(),
                                  Fpn.NumLevels, null);

    /// <summary>Inference without the graph: forward and postprocess.</summary>
    public IReadOnlyList<Detections> Detect(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes) => Detectors.Detect(this, images, imageSizes);
}
