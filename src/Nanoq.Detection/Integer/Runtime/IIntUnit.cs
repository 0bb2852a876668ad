namespace Nanoq.Detection.Integer;

/// <summary>
/// A unit of the integer runtime that has parameters of its own and produces codes on a quantizer's grid: a conv unit
/// (<see cref="IntConvUnit"/>) or an add (<see cref="IntAddUnit"/>), the counterparts of the float model's
/// <see cref="Nn.Taps.ConvUnit"/> and <see cref="Nn.Taps.AddUnit"/> taps. <see cref="Name"/> is the float tap name
/// (<c>backbone.layer1.0.conv1</c>, <c>fpn.topdown4</c>), so a unit's codes line up with the fake-quant model's quantizer
/// of the same name (+ ".out"). Code-only operations (max pooling, nearest upsampling, the ReLU before P7) are not
/// units: they act on codes exactly and keep their input's grid (<see cref="CodeOps"/>).
/// <para>
/// A conv shared by inputs on different grids — the head's first conv reads P3 … P7, each quantized with its own
/// (Δ, z) — has one variant per input grid: the same weight codes, but its own z_x, bias_q and multipliers (both
/// depend on Δ_x). Variants share <see cref="Name"/> and differ in <see cref="Key"/> (<c>head.cls0@P3</c>).
/// </para>
/// </summary>
public interface IIntUnit
{
    /// <summary>The float model's tap name.</summary>
    string Name { get; }

    /// <summary>Unique in a graph: <see cref="Name"/>, or <c>Name@binding</c> for a per-input-grid variant.</summary>
    string Key { get; }

    /// <summary>"conv" or "add".</summary>
    string Op { get; }

    /// <summary>k of the output codes.</summary>
    int OutputBits { get; }

    /// <summary>z of the output codes.</summary>
    int OutputZeroPoint { get; }
}
