namespace Nanoq.Nn.Backbones;

/// <summary>
/// The detection backbones by name, built the same way for every detector: ResNet-18/34/50 with first-stage width
/// round(64·w), MobileNetV2 with width multiplier α = w, no classifier (C2–C5 only). One draw from
/// <paramref name="rng"/> seeds the backbone, so a detector's later draws do not depend on which backbone it has.
/// </summary>
public static class DetectionBackbones
{
    public static readonly string[] Names = ["resnet18", "resnet34", "resnet50", "mobilenet_v2"];

    public static IBackbone Create(string name, float width, Rng rng)
    {
        int resnetWidth = Math.Max(1, (int)MathF.Round(64 * width));
        return name switch
        {
            "resnet18" => ResNet.ResNet18(0, resnetWidth, rng.NextUInt64()),
            "resnet34" => ResNet.ResNet34(0, resnetWidth, rng.NextUInt64()),
            "resnet50" => ResNet.ResNet50(0, resnetWidth, rng.NextUInt64()),
            "mobilenet_v2" => new MobileNetV2(0, width, rng.NextUInt64()),
            _ => throw new ArgumentException($"Backbone '{name}' is not one of {string.Join(", ", Names)}."),
        };
    }
}
