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
    /// For a network output whose consumer treats every value at or below some level alike, that level; null for every
    /// other tap. RetinaNet's class logits: postprocessing keeps an anchor-class pair only if σ(logit) &gt; score
    /// threshold, so every logit ≤ logit(threshold) means the same thing, "no detection". A quantizer of this tap spends
    /// its 2^k levels on the values above the floor (<c>ActQuantizer.Floor</c>), where the signal is.
    /// </summary>
    public float? ConsumerFloor { get; init; }
}
