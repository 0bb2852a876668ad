using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>
/// A named point of a network's forward pass where quantization plugs in (DESIGN.md §4, §5.6: every activation, from the
/// normalized input to the head outputs, is quantized). Models are written once, in float, and route their computation
/// through taps; a float model leaves every tap empty, and Nanoq.Quant installs quantizer modules into it:
/// <see cref="OutputQuantizer"/> (child "activation_post_process", PyTorch's name) on the tap's output and, for layers
/// with weights, a weight quantizer. Because they are child modules of the tap, the state dict, train/eval and the
/// optimizer reach them like any other module.
/// <para>
/// A tap is a module that owns no parameters of its own: the layers it wraps (conv, batch norm, linear) stay ordinary
/// children of the owner, so their state dict names are the float model's. Every tap reports itself to the
/// <see cref="OpTrace"/> recorder, with its computation hidden, so a traced forward sees one op per tap — the
/// mechanism the integer program is converted by.
/// </para>
/// </summary>
public abstract class Tap : Module
{
    /// <summary>The child name of the output quantizer (PyTorch's).</summary>
    public const string OutputQuantizerName = "activation_post_process";

    /// <summary>The dotted path, set when the owning module registers the tap (relative to the owner until the model is walked).</summary>
    public string Name { get; internal set; } = "";

    /// <summary>
    /// For a network output whose consumer treats every value at or below some level alike, that level; null for every
    /// other tap. RetinaNet's class logits: postprocessing keeps an anchor-class pair only if σ(logit) &gt; score
    /// threshold, so every logit ≤ logit(threshold) means the same thing, "no detection". A quantizer of this tap spends
    /// its 2^k levels on the values above the floor (<c>ActQuantizer.Floor</c>), where the signal is.
    /// </summary>
    public float? ConsumerFloor { get; init; }

    /// <summary>The quantizer of this tap's output, or null (float).</summary>
    public TensorQuantizer? OutputQuantizer { get; private set; }

    /// <summary>Installs (or, with null, removes) the output quantizer.</summary>
    public void SetOutputQuantizer(TensorQuantizer? quantizer)
    {
        OutputQuantizer = quantizer;
        SetChild(OutputQuantizerName, quantizer);
        quantizer?.Train(Training);
    }

    /// <summary>Removes every quantizer and implementation installed at this tap.</summary>
    public virtual void ClearQuantization() => SetOutputQuantizer(null);

    /// <summary>y through the output quantizer (the identity without one).</summary>
    protected Var QuantizeOutput(Var y) => OutputQuantizer is null ? y : OutputQuantizer.Forward(y);

    /// <summary>Runs <paramref name="compute"/> hidden from the op recorder and reports this tap as one op.</summary>
    protected Var Traced(Var[] inputs, Func<Var> compute)
    {
        var recorder = OpTrace.Current;
        if (recorder is null) return compute();
        Var y;
        using (OpTrace.Hidden()) y = compute();
        recorder.Op("tap", inputs, y, [], this);
        return y;
    }
}
