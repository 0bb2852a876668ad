using Nanoq.Autograd;
using Nanoq.Nn.Taps;

namespace Nanoq.Quant.Quantizers;

/// <summary>
/// The one interface of every fake quantizer (DESIGN.md §5.10; PyTorch's <c>FakeQuantizeBase</c>): a module installed at
/// a tap whose forward maps a tensor to its quantized image with a straight-through gradient, and which says on which
/// integer grid it ends (<see cref="Describe"/>: Δ, z, k, axis). Δ and z are buffers — parameters where they are learned
/// (<see cref="LsqQuantizer"/>) — so the state dict saves and restores them and the optimizer reaches learned ones.
/// One subclass per method: <see cref="ActQuantizer"/> and <see cref="WeightQuantizer"/> (FQN's affine grids, with
/// observers), <see cref="LsqQuantizer"/>, <see cref="DoReFaWeightQuantizer"/>, <see cref="DoReFaActQuantizer"/>,
/// <see cref="XnorWeightQuantizer"/>, <see cref="SignActQuantizer"/>; recipes choose among them in one factory
/// (<see cref="QuantRecipe.CreateWeightQuantizer"/>, <see cref="QuantRecipe.CreateActQuantizer"/>).
/// </summary>
public abstract class FakeQuantizer : TensorQuantizer
{
    protected FakeQuantizer(int bits, QuantizerRole role)
    {
        if (bits is < 1 or > QuantBits.Max) throw new ArgumentOutOfRangeException(nameof(bits), $"{GetType().Name}: {bits} bits (1..8; affine grids 2..8).");
        Bits = bits;
        Role = role;
    }

    /// <summary>The module path in the model (set by <see cref="QuantRegistry.Collect"/>), e.g. <c>backbone.layer1.0.conv1.weight_fake_quant</c>.</summary>
    public string Name { get; set; } = "";

    public QuantizerRole Role { get; }

    /// <summary>k: codes on [0, 2^k − 1] (1 for XNOR).</summary>
    public int Bits { get; }

    /// <summary>The method's name for tables and files: "affine", "lsq", "dorefa", "xnor".</summary>
    public abstract string Method { get; }

    /// <summary>Whether the grid is affine with an integer zero point, so the integer runtime can run it (<see cref="Describe"/> gives it).</summary>
    public virtual bool ConvertsToInteger => false;

    /// <summary>
    /// Whether this output quantizer is itself the layer's nonlinearity, so the layer's ReLU must be left out before it
    /// (XNOR-Net's sign: its block is BN → sign → conv, and a ReLU before the sign would make every sign +1).
    /// </summary>
    public virtual bool ReplacesActivation => false;

    /// <summary>False: the identity (weight quantizers during calibration, which runs the float model).</summary>
    public bool Enabled { get; set; } = true;

    public sealed override Var Forward(Var x) => Enabled ? Quantize(x) : x;

    /// <summary>The fake quantization itself (with its straight-through backward).</summary>
    protected abstract Var Quantize(Var x);

    /// <summary>Whether this quantizer's grid comes from calibration batches (<see cref="Calibrator"/>).</summary>
    public virtual bool NeedsCalibration => false;

    /// <summary>Starts recording calibration batches (state kept by the observer).</summary>
    public virtual void BeginCalibration() { }

    /// <summary>Opens one calibration batch (a layer may run on it several times).</summary>
    public virtual void BeginCalibrationBatch() { }

    /// <summary>Closes one calibration batch.</summary>
    public virtual void EndCalibrationBatch() { }

    /// <summary>Whether the calibration batches reached this quantizer (checked before any grid is fixed).</summary>
    public virtual bool SawCalibrationData => true;

    /// <summary>Fixes the grid from what was recorded and starts quantizing.</summary>
    public virtual void EndCalibration() { }

    /// <summary>Stops calibrating without a grid (a failed calibration): back to the identity.</summary>
    public virtual void AbortCalibration() { }

    /// <summary>A snapshot of the grid (for inspection and for integer conversion).</summary>
    public abstract QuantizerInfo Describe();
}
