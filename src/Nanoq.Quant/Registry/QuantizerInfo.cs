using System.Globalization;

namespace Nanoq.Quant;

/// <summary>
/// One quantizer's parameters, as the registry reports them (for inspection and for conversion to the integer runtime).
/// Per-tensor quantizers have one entry in each array; per-channel ones one per channel along <see cref="Axis"/>.
/// <list type="bullet">
/// <item>"affine" and "lsq": <see cref="Scales"/> Δ, <see cref="ZeroPoints"/> z, and the nudged ranges
/// <see cref="Lb"/> = −zΔ, <see cref="Ub"/> = (2^k − 1 − z)Δ.</item>
/// <item>"dorefa" weights: Scales = [Δ = 2s/(2^k − 1)], ZeroPoints empty (the zero point (2^k − 1)/2 is a
/// half-integer), Lb = [−s], Ub = [s]. DoReFa activations: affine on [0, 1].</item>
/// <item>"xnor" (<see cref="Bits"/> = 1): weights Scales = α_c, Lb = −α_c, Ub = α_c; sign activations Scales = [1],
/// Lb = [−1], Ub = [1]; ZeroPoints empty (codes are ±1).</item>
/// </list>
/// <see cref="Calibrated"/> is false (and the arrays empty) for an activation quantizer whose range is not set yet.
/// </summary>
public sealed record QuantizerInfo(
    string Name,
    QuantizerRole Role,
    string Method,
    int Bits,
    bool PerChannel,
    int Axis,
    float[] Scales,
    int[] ZeroPoints,
    float[] Lb,
    float[] Ub,
    bool Calibrated)
{
    /// <summary>An affine per-tensor entry.</summary>
    public static QuantizerInfo Of(string name, QuantizerRole role, string method, QParams q) =>
        new(name, role, method, q.Bits, false, -1, [q.Scale], [q.ZeroPoint], [q.Lb], [q.Ub], true);

    /// <summary>An affine per-channel entry.</summary>
    public static QuantizerInfo Of(string name, QuantizerRole role, string method, ChannelQParams q) =>
        new(name, role, method, q.Bits, true, q.Axis, q.Scales.ToArray(), q.ZeroPoints.ToArray(), q.Lb(), q.Ub(), true);

    /// <summary>An entry whose range is not known yet.</summary>
    public static QuantizerInfo Uncalibrated(string name, QuantizerRole role, string method, int bits, bool perChannel, int axis) =>
        new(name, role, method, bits, perChannel, axis, [], [], [], [], false);

    /// <summary>Whether the entry is an integer-convertible affine grid (Δ and integer z per entry).</summary>
    public bool IsAffine => Calibrated && ZeroPoints.Length == Scales.Length && Method is "affine" or "lsq";

    /// <summary>The per-tensor affine parameters (throws for per-channel, non-affine or uncalibrated entries).</summary>
    public QParams ToQParams() =>
        IsAffine && !PerChannel
            ? new QParams(Scales[0], ZeroPoints[0], Bits)
            : throw new InvalidOperationException($"{Name}: not a calibrated per-tensor affine quantizer.");

    /// <summary>The per-channel affine parameters (throws for other entries).</summary>
    public ChannelQParams ToChannelQParams() =>
        IsAffine && PerChannel
            ? new ChannelQParams(Scales, ZeroPoints, Bits, Axis)
            : throw new InvalidOperationException($"{Name}: not a calibrated per-channel affine quantizer.");

    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        string where = PerChannel ? $"per-channel (axis {Axis}, {Scales.Length} channels)" : "per-tensor";
        if (!Calibrated) return $"{Name}: {Role} {Method} {Bits}-bit {where}, uncalibrated";
        string range = PerChannel
            ? string.Create(inv, $"Δ ∈ [{Scales.Min():G4}, {Scales.Max():G4}]")
            : string.Create(inv, $"Δ={Scales[0]:G6}{(ZeroPoints.Length > 0 ? $" z={ZeroPoints[0]}" : "")} [{Lb[0]:G6}, {Ub[0]:G6}]");
        return $"{Name}: {Role} {Method} {Bits}-bit {where}, {range}";
    }
}
