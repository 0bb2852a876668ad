using System.Text.Json;

namespace Nanoq.Coco.Evaluation;

/// <summary>
/// The 12 numbers of pycocotools' summarize(), in its order. −1 means "no ground truth in that range".
/// </summary>
public sealed record CocoStats(
    double AP, double AP50, double AP75, double APs, double APm, double APl,
    double AR1, double AR10, double AR100, double ARs, double ARm, double ARl)
{
    /// <summary>The json keys, in pycocotools' stats order.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

    /// <summary>Stat i in pycocotools' order (stats[0] = AP … stats[11] = ARl).</summary>
    public double this[int i] => ToArray()[i];

    public double[] ToArray() => [AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl];

    public static CocoStats FromArray(IReadOnlyList<double> s) =>
        s.Count == 12
            ? new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11])
            : throw new ArgumentException($"expected 12 numbers, got {s.Count}", nameof(s));

    /// <summary>One json object with the 12 keys, full double precision.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            var values = ToArray();
            for (int i = 0; i < values.Length; i++) w.WriteNumber(Keys[i], values[i]);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
