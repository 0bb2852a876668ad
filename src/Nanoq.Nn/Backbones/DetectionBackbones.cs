namespace Nanoq.Nn.Backbones;

/// <summary>
/// The detection backbones by name, built the same way for every detector: ResNet-18/34/50 with first-stage width
/// round(64·w), MobileNetV2 with width multiplier α = w, no classifier (C2–C5 only). One draw from
/// <paramref name="rng"/> seeds the backbone, so a detector's later draws do not depend on which backbone it has.
/// <para>
/// Libraries above this one add backbones by name with <see cref="Register"/> — Nanoq.Onnx's imported networks
/// (<c>onnx:FILE</c>, <c>resnet18-imagenet</c>), registered by the program that references it (the CLI) — so a detector
/// configuration names any backbone while Nanoq.Detection does not depend on ONNX.
/// </para>
/// <para>
/// <c>scratch:NAME</c> is backbone NAME with its weights drawn afresh as torchvision initializes a ResNet (convs Kaiming
/// normal, fan_out, ReLU gain; biases 0; batch norm γ = 1, β = 0, statistics (0, 1), not frozen): the same network
/// untrained, to measure what pretrained weights (<c>resnet18-imagenet</c>) are worth.
/// </para>
/// </summary>
public static class DetectionBackbones
{
    /// <summary>The native backbones.</summary>
    public static readonly string[] Names = ["resnet18", "resnet34", "resnet50", "mobilenet_v2"];

    private static readonly List<Provider> Providers = new();

    /// <param name="Pattern">how the names read, for messages ("onnx:FILE").</param>
    /// <param name="Handles">whether a name is this provider's.</param>
    /// <param name="Create">the backbone of a name; the width multiplier is the caller's (a provider may ignore it).</param>
    private sealed record Provider(string Pattern, Func<string, bool> Handles, Func<string, float, ulong, IBackbone> Create);

    /// <summary>
    /// Adds backbones by name (a second registration of the same <paramref name="pattern"/> replaces the first). A
    /// provider's names must not be native ones.
    /// </summary>
    public static void Register(string pattern, Func<string, bool> handles, Func<string, float, ulong, IBackbone> create)
    {
        lock (Providers)
        {
            Providers.RemoveAll(p => p.Pattern == pattern);
            Providers.Add(new Provider(pattern, handles, create));
        }
    }

    /// <summary>Whether <paramref name="name"/> is a native backbone or one a registered provider handles.</summary>
    public static bool IsKnown(string name) =>
        name.StartsWith(Scratch, StringComparison.Ordinal) ? IsKnown(name[Scratch.Length..]) : Names.Contains(name) || Find(name) is not null;

    /// <summary>The prefix of an untrained copy of a named backbone.</summary>
    public const string Scratch = "scratch:";

    /// <summary>The names a configuration may use, for messages: "resnet18, …, mobilenet_v2, onnx:FILE".</summary>
    public static string Known
    {
        get
        {
            lock (Providers) return string.Join(", ", Names.Concat(Providers.Select(p => p.Pattern)).Append(Scratch + "NAME"));
        }
    }

    public static IBackbone Create(string name, float width, Rng rng)
    {
        ulong seed = rng.NextUInt64();
        if (name.StartsWith(Scratch, StringComparison.Ordinal))
        {
            var inner = Create(name[Scratch.Length..], width, new Rng(seed));
            Reinitialize((Module)inner, new Rng(seed + 1));
            return inner;
        }
        int resnetWidth = Math.Max(1, (int)MathF.Round(64 * width));
        return name switch
        {
            "resnet18" => ResNet.ResNet18(0, resnetWidth, seed),
            "resnet34" => ResNet.ResNet34(0, resnetWidth, seed),
            "resnet50" => ResNet.ResNet50(0, resnetWidth, seed),
            "mobilenet_v2" => new MobileNetV2(0, width, seed),
            _ => Find(name) is { } p ? p.Create(name, width, seed) : throw new ArgumentException($"Backbone '{name}' is not one of {Known}."),
        };
    }

    /// <summary>torchvision's ResNet initialization over every layer of <paramref name="backbone"/> (see the class notes).</summary>
    public static void Reinitialize(Module backbone, Rng rng)
    {
        foreach (var (_, m) in backbone.NamedModules())
        {
            switch (m)
            {
                case Layers.Conv2d c:
                    Init.Initializers.KaimingNormal(c.Weight.Value, rng, fanOut: true);
                    c.Bias?.Value.Span.Clear();
                    break;
                case Layers.Linear l:
                    Init.Initializers.PyTorchDefault(l.Weight.Value, l.Bias?.Value, rng);
                    break;
                case Layers.BatchNorm2d bn:
                    bn.Weight.Value.Span.Fill(1f);
                    bn.Bias.Value.Span.Clear();
                    bn.RunningMean.Span.Clear();
                    bn.RunningVar.Span.Fill(1f);
                    bn.Frozen = false;
                    break;
            }
        }
    }

    private static Provider? Find(string name)
    {
        lock (Providers) return Providers.FirstOrDefault(p => p.Handles(name));
    }
}
