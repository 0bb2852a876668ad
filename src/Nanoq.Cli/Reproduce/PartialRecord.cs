using System.Text.Json;
using Nanoq.IO;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// What a fine-tuning cell records along the way (Figure 4's evaluations, Figure 1's batch-norm statistics), kept in the
/// cell's folder so that a stopped cell resumes with it. It is saved before the trainer's checkpoint of the same step,
/// so on resume it may hold steps the checkpoint does not: <see cref="TruncateAfter"/> drops those, and the resumed
/// steps record them again, as they were (training is deterministic).
/// </summary>
public sealed class PartialRecord
{
    public List<CurvePoint> Curve { get; init; } = [];

    /// <summary>Figure 1, one entry a step: the step, β, the batch mean and the batch variance of channel 0.</summary>
    public List<double[]> Probe { get; init; } = [];

    public static PartialRecord Load(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<PartialRecord>(File.ReadAllText(path)) ?? new PartialRecord() : new PartialRecord();

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this));

    public void TruncateAfter(int step)
    {
        Curve.RemoveAll(p => p.Step > step);
        Probe.RemoveAll(p => p[0] > step);
    }
}
