using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Taps;
using Nanoq.Onnx.Proto;

namespace Nanoq.Onnx;

/// <summary>
/// An imported ONNX network as a detection backbone: <see cref="Stages"/> returns the graph's values at strides 4, 8,
/// 16 and 32 (C2–C5); the graph is imported only up to them, so a classifier tail (pooling, fc) is not built and none
/// of its taps waits for calibration data. Child <c>graph</c> holds the
/// <see cref="OnnxGraphModule"/>, so parameters and taps read <c>backbone.graph.Convolution249.weight</c> inside a
/// detector. The stage values are named explicitly or found by <see cref="FindStages"/>: a probe input goes through
/// the graph and, for each stride s, the last 4-D value (in execution order) whose height and width are the input's
/// divided by s is taken — in a ResNet, the output of the last block of each stage.
/// </summary>
public sealed class OnnxBackbone : Module, IBackbone
{
    private readonly string[] _stageValues;

    private OnnxBackbone(OnnxGraphModule graph, IReadOnlyList<(string Value, int Channels)> stages)
    {
        if (stages.Count != 4) throw new ArgumentException($"A backbone needs 4 stage values (C2–C5), got {stages.Count}.");
        Graph = Child("graph", graph);
        _stageValues = stages.Select(s => s.Value).ToArray();
        StageChannels = stages.Select(s => s.Channels).ToArray();
    }

    /// <summary>The imported graph, cut after C5 (only the nodes C2–C5 depend on).</summary>
    public OnnxGraphModule Graph { get; }

    public int[] StageChannels { get; }

    /// <summary>The ONNX value names taken as C2, C3, C4, C5.</summary>
    public IReadOnlyList<string> StageValues => _stageValues;

    /// <summary>
    /// Batch norm with the imported running statistics, used and never updated even in training mode (γ and β still
    /// learn) — what a pretrained backbone wants under detection's small batches (torchvision freezes them too).
    /// </summary>
    public void FreezeBatchNorm(bool frozen = true)
    {
        foreach (var (_, m) in NamedModules())
            if (m is Nn.Layers.BatchNorm2d bn) bn.Frozen = frozen;
    }

    public Var[] Stages(Var x)
    {
        var v = Graph.Run(x, _stageValues);
        return _stageValues.Select(n => v[n]).ToArray();
    }

    /// <summary>An ONNX file as a backbone (see <see cref="FromModel"/>).</summary>
    public static OnnxBackbone Load(string path, IReadOnlyList<string>? stageValues = null) =>
        FromModel(OnnxImporter.ReadModel(path), stageValues);

    /// <summary>
    /// An ONNX model as a backbone. Without <paramref name="stageValues"/> the whole graph is imported once to find them
    /// (<see cref="FindStages"/>; every node must then be supported). The backbone's graph is imported with C2–C5 as
    /// its outputs, so a classifier tail is not built, and without an input tap (the detector owns the "input" site).
    /// </summary>
    public static OnnxBackbone FromModel(ModelProto model, IReadOnlyList<string>? stageValues = null)
    {
        stageValues ??= FindStages(OnnxImporter.Import(model, new OnnxImportOptions { InputSite = false })).Select(s => s.Value).ToArray();
        var graph = OnnxImporter.Import(model, new OnnxImportOptions { InputSite = false, Outputs = stageValues });
        return new OnnxBackbone(graph, ProbeChannels(graph, stageValues));
    }

    /// <summary>
    /// For each stride 4, 8, 16, 32: the last 4-D value whose spatial size is the probe input's divided by the stride,
    /// with its channel count. The probe has the graph's declared input shape (batch 1) when fixed, else 1×3×224×224
    /// (a multiple of 32 that a classifier tail such as a 7×7 average pool accepts); it runs in eval mode without
    /// gradients and leaves the mode as it was.
    /// </summary>
    public static IReadOnlyList<(string Value, int Channels)> FindStages(OnnxGraphModule graph)
    {
        var shapes = Probe(graph, graph.ValueNames.ToArray(), out int h, out int w);
        var stages = new List<(string, int)>();
        foreach (int stride in new[] { 4, 8, 16, 32 })
        {
            if (h % stride != 0 || w % stride != 0)
                throw new OnnxImportException($"the probe input {h}×{w} is not a multiple of {stride}; name the stage values explicitly.");
            var hit = shapes.LastOrDefault(s => s.Shape.Length == 4 && s.Shape[2] * stride == h && s.Shape[3] * stride == w);
            if (hit.Value is null)
                throw new OnnxImportException($"no value of the graph has stride {stride} ({h / stride}×{w / stride} for a {h}×{w} input); name the stage values explicitly.");
            stages.Add((hit.Value, hit.Shape[1]));
        }
        return stages;
    }

    private static List<(string Value, int Channels)> ProbeChannels(OnnxGraphModule graph, IReadOnlyList<string> values) =>
        Probe(graph, values, out _, out _).Select(s => s.Shape.Length == 4
            ? (s.Value, s.Shape[1])
            : throw new ArgumentException($"stage value '{s.Value}' is not 4-D ({string.Join("×", s.Shape)}).")).ToList();

    private static List<(string Value, int[] Shape)> Probe(OnnxGraphModule graph, IReadOnlyList<string> values, out int h, out int w)
    {
        int[] shape = graph.InputShape is { Length: 4 } s ? [1, s[1], s[2], s[3]] : [1, 3, 224, 224];
        h = shape[2]; w = shape[3];
        var x = Tensor.Zeros(shape);
        var span = x.Span;
        var rng = new Rng(0x0_11C5);
        for (int i = 0; i < span.Length; i++) span[i] = rng.Uniform(-1f, 1f);
        bool training = graph.Training;
        graph.Eval();
        try
        {
            using var _ = GradMode.NoGrad();
            var v = graph.Run(new Var(x), values);
            return values.Select(n => (n, v[n].Shape.ToArray())).ToList();
        }
        finally { graph.Train(training); }
    }

    // ---------- the named pretrained backbone ----------

    /// <summary>The ImageNet-trained ResNet-18 of NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0 (a CNTK export).</summary>
    public const string ResNet18ImageNetName = "resnet18-imagenet";

    private const string ResNet18Package = "microsoft.ml.dnnimagefeaturizer.resnet18";
    private const string ResNet18Version = "0.24.0";

    /// <summary>
    /// A backbone from a name: <c>onnx:FILE</c> (any plain CNN graph, its input as the file expects it) or
    /// <c>resnet18-imagenet</c> (<see cref="ResNet18ImageNet"/>, taking Nanoq's ImageNet-normalized RGB input). Null
    /// for other names, so a caller can fall through to the native backbones.
    /// </summary>
    public static OnnxBackbone? Resolve(string spec)
    {
        if (spec.StartsWith("onnx:", StringComparison.Ordinal)) return Load(spec["onnx:".Length..]);
        if (spec == ResNet18ImageNetName) return ResNet18ImageNet();
        return null;
    }

    /// <summary>
    /// The ResNet18.onnx of the restored NuGet package, found under $NUGET_PACKAGES or ~/.nuget/packages (or at
    /// $NANOQ_RESNET18_ONNX); null when absent. The package is not a dependency of Nanoq.Onnx: restore it in the
    /// project that needs it (<c>&lt;PackageReference Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" ExcludeAssets="all" /&gt;</c>).
    /// </summary>
    public static string? FindResNet18ImageNet()
    {
        if (Environment.GetEnvironmentVariable("NANOQ_RESNET18_ONNX") is { Length: > 0 } p && File.Exists(p)) return p;
        string? root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string file = Path.Combine(root, ResNet18Package, ResNet18Version, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        return File.Exists(file) ? file : null;
    }

    /// <summary>
    /// The ImageNet ResNet-18 as a backbone for Nanoq's input convention: RGB normalized as
    /// (v/255 − mean)/std with ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225). The CNTK model
    /// expects BGR in 0..255 minus a mean image (its package's ResNetPreprocess.onnx); that affine map is folded into
    /// the first conv (<see cref="FoldInputAffine"/>) with the mean image's per-channel means, so the network is again
    /// conv units and adds only, and quantizes and converts like a native backbone. C2–C5: the outputs of the four
    /// stages (found by <see cref="FindStages"/>: ReLU283, ReLU315, ReLU347, ReLU393 in this file; note that this CNTK
    /// "ResNet-18" has blocks [2, 2, 2, 3], 22 convs). Batch norm comes frozen (<see cref="FreezeBatchNorm"/>) unless
    /// <paramref name="freezeBatchNorm"/> is false.
    /// </summary>
    public static OnnxBackbone ResNet18ImageNet(string? path = null, bool freezeBatchNorm = true)
    {
        path ??= FindResNet18ImageNet() ?? throw new FileNotFoundException(
            $"The ImageNet ResNet-18 ({ResNet18ImageNetName}) comes from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 {ResNet18Version}, " +
            "which is not restored here. Restore it (any project with <PackageReference Include=\"Microsoft.ML.DnnImageFeaturizer.ResNet18\" " +
            $"Version=\"{ResNet18Version}\" ExcludeAssets=\"all\" />), set NANOQ_RESNET18_ONNX, or pass --backbone onnx:FILE.");
        var model = OnnxImporter.ReadModel(path);
        var stages = FindStages(OnnxImporter.Import(model, new OnnxImportOptions { InputSite = false })).Select(s => s.Value).ToArray();
        var graph = OnnxImporter.Import(model, new OnnxImportOptions { InputSite = false, Outputs = stages });
        float[] bgrMean = ResNet18ChannelMeans(path);
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        // model input channel c (B, G, R) = 255·(std[r]·x[r] + mean[r]) − bgrMean[c], r = 2 − c the RGB channel.
        var scale = new float[3];
        var shift = new float[3];
        int[] source = [2, 1, 0];
        for (int c = 0; c < 3; c++)
        {
            int r = source[c];
            scale[c] = 255f * std[r];
            shift[c] = 255f * mean[r] - bgrMean[c];
        }
        FoldInputAffine(graph, scale, shift, source);
        var backbone = new OnnxBackbone(graph, ProbeChannels(graph, stages));
        backbone.FreezeBatchNorm(freezeBatchNorm);
        return backbone;
    }

    /// <summary>Per-channel means (B, G, R) of the mean image in ResNetPreprocess.onnx beside the model in the package.</summary>
    public static float[] ResNet18ChannelMeans(string resnetPath)
    {
        string prep = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(resnetPath)))!, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        if (!File.Exists(prep))
            throw new FileNotFoundException($"The mean image of the ImageNet ResNet-18 is in {prep}, which is missing (it ships in the same NuGet package).");
        var model = OnnxImporter.ReadModel(prep);
        var t = model.Graph.Initializer.FirstOrDefault(i => i.Dims.Count == 4 && i.Dims[1] == 3)
            ?? throw new OnnxImportException($"{prep}: no [1, 3, H, W] mean image among its initializers.");
        var img = OnnxTensors.ToTensor(t);
        int plane = img.Shape[2] * img.Shape[3];
        var means = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double s = 0;
            foreach (float v in img.Span.Slice(c * plane, plane)) s += v;
            means[c] = (float)(s / plane);
        }
        return means;
    }

    /// <summary>
    /// Makes the graph take x' where it took x[c] = scale[c]·x'[source[c]] + shift[c]: each conv unit reading the graph
    /// input gets weights W'[o, source[c]] = scale[c]·W[o, c] and absorbs the constant Σ W[o, c]·shift[c] into its
    /// conv bias, or else its batch norm's running mean (BN(y + b) with mean μ is BN(y) with mean μ − b; with batch
    /// statistics the constant cancels anyway). Exact away from the borders; where the kernel overlaps the zero
    /// padding, the original padded with x = 0 and the folded one pads with x' = 0, i.e. x = shift (for the ImageNet
    /// ResNet-18, |shift| &lt; 1 on a 0..255 scale). Throws unless every consumer of the input is a plain conv unit.
    /// </summary>
    public static void FoldInputAffine(OnnxGraphModule graph, float[] scale, float[] shift, int[] source)
    {
        if (scale.Length != shift.Length || source.Length != scale.Length || source.Order().Where((v, i) => v != i).Any())
            throw new ArgumentException("scale, shift and source need one entry per input channel, and source must be a permutation.");
        var readers = graph.Steps.Where(s => s.Inputs.Contains(graph.InputName)).ToList();
        if (readers.Count == 0) throw new InvalidOperationException("No step reads the graph input.");
        foreach (var step in readers)
        {
            if (step.Tap is not ConvUnit unit || unit.Conv.Groups != 1 || unit.Conv.InChannels != scale.Length)
                throw new InvalidOperationException($"Step {step} reads the input but is not a {scale.Length}-channel conv unit; cannot fold an input transform into it.");
            var w = unit.Conv.Weight.Value;
            int outC = w.Shape[0], inC = w.Shape[1], k2 = w.Shape[2] * w.Shape[3];
            var old = w.Clone();
            var offset = new double[outC];
            var ws = w.Span;
            var os = old.Span;
            for (int o = 0; o < outC; o++)
                for (int c = 0; c < inC; c++)
                {
                    var src = os.Slice((o * inC + c) * k2, k2);
                    var dst = ws.Slice((o * inC + source[c]) * k2, k2);
                    double sum = 0;
                    for (int i = 0; i < k2; i++) { dst[i] = scale[c] * src[i]; sum += src[i]; }
                    offset[o] += sum * shift[c];
                }
            old.Dispose();
            if (unit.Conv.Bias is { } b)
                for (int o = 0; o < outC; o++) b.Value.Span[o] += (float)offset[o];
            else if (unit.Bn is { } bn)
                for (int o = 0; o < outC; o++) bn.RunningMean.Span[o] -= (float)offset[o];
            else
                throw new InvalidOperationException($"Step {step} has neither a conv bias nor a batch norm to absorb the input shift.");
        }
    }
}
