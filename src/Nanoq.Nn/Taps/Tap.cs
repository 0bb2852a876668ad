namespace Nanoq.Nn.Taps;

/// <summary>
/// A named point of a network's forward pass where quantization-aware training can step in (DESIGN.md §5 item 6:
/// every activation, from the normalized input to the head outputs, is quantized). Models are written once, in
/// float, and route their computation through taps; a float model leaves every tap at its default (the plain
/// computation), and Nanoq.Quant installs an implementation per tap to observe ranges, fold batch norm and
/// fake-quantize. Modules register taps like parameters, so each has a dotted path (<see cref="Module.NamedTaps"/>),
/// the name its quantizers carry.
/// </summary>
public abstract class Tap
{
    /// <summary>The dotted path, set when the owning module registers the tap (relative to the owner until the model is walked).</summary>
    public string Name { get; internal set; } = "";

    /// <summary>
    /// Whether this tap produces one of the network's outputs (a detector's class logits or box deltas). Their
    /// meaningful values are the rare extremes (the few confident anchors), so calibration must not clip them.
    /// </summary>
    public bool IsModelOutput { get; init; }
}
