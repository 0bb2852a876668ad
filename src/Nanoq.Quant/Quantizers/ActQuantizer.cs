using Nanoq.Autograd;
using Nanoq.Quant.Observers;

namespace Nanoq.Quant.Quantizers;

/// <summary>
/// FQN's activation quantizer: one affine grid per tensor (layer-wise, DESIGN.md §5.6) for a conv output, an add, the
/// input image…, from an observer (DESIGN.md §5.7):
/// <code>
///     x̂ = (clamp(round(x · (1/Δ)) + z, 0, 2^k − 1) − z) · Δ        Δ, z from the observed range (eq. 4, zero point aligned)
/// </code>
/// Its life follows the FQN pipeline, kept in the buffer <c>state</c> (0 float, 1 calibrating, 2 quantizing):
/// <list type="number">
/// <item>float until calibrated: the identity;</item>
/// <item>calibrating (<see cref="Calibrator"/>): the identity, every call recorded by the <see cref="Observer"/>
/// (percentiles for P, EMA of min/max otherwise);</item>
/// <item>quantizing for fine-tuning and evaluation. With P the range stays fixed; for the EMA baseline
/// (<see cref="TrackRangeInTraining"/>) each training forward first updates the EMA with the batch and quantizes with
/// the result (Jacob et al. 2018; PyTorch's FakeQuantize), while evaluation uses the range as it stands.</item>
/// </list>
/// Buffers <c>scale</c>, <c>zero_point</c>, <c>state</c> and the observer's (child <c>observer</c>) make a calibrated
/// quantizer restorable from a state dict alone.
/// </summary>
public sealed class ActQuantizer : FakeQuantizer
{
    private const float Float = 0f, Calibrating = 1f, Quantizing = 2f;
    private readonly Tensor _scale, _zeroPoint, _state;

    public ActQuantizer(int bits, RangeObserver? observer = null) : base(bits, QuantizerRole.Activation)
    {
        Observer = Child("observer", observer ?? new PercentileObserver());
        _scale = Buffer("scale", Tensor.Ones(1));
        _zeroPoint = Buffer("zero_point", Tensor.Zeros(1));
        _state = Buffer("state", Tensor.Zeros(1));
    }

    public override string Method => "affine";
    public override bool ConvertsToInteger => true;
    public override bool NeedsCalibration => true;

    public RangeObserver Observer { get; }

    /// <summary>
    /// The consumer's floor of this activation (<see cref="Nn.Taps.Tap.ConsumerFloor"/>), or null: every range the
    /// observer gives is raised to it by <see cref="QParams.FromRangeAboveFloor"/>, so no level is spent on values
    /// the consumer cannot tell apart.
    /// </summary>
    public float? Floor { get; init; }

    /// <summary>Keep updating the observer from every training batch while quantizing (the EMA baseline; off for P).</summary>
    public bool TrackRangeInTraining { get; init; }

    /// <summary>Whether the grid is set (calibrated, restored or set by hand).</summary>
    public bool IsQuantizing => _state.Span[0] == Quantizing;

    /// <summary>The current grid, null before calibration.</summary>
    public QParams? Current => IsQuantizing ? AffineGrid.PerTensor(_scale, _zeroPoint, Bits) : null;

    public override void BeginCalibration()
    {
        Observer.Reset();
        _state.Span[0] = Calibrating;
    }

    public override void BeginCalibrationBatch() => Observer.BeginBatch();

    public override void EndCalibrationBatch() => Observer.EndBatch();

    public override bool SawCalibrationData => Observer.Batches > 0;

    /// <summary>Fixes Δ, z from what the observer saw and starts quantizing; throws (naming this quantizer) if it saw nothing.</summary>
    public override void EndCalibration()
    {
        Observer.EndBatch();
        if (Observer.Batches == 0)
            throw new InvalidOperationException($"{Name}: the calibration batches never reached this activation quantizer, so it has no range.");
        SetQParams(ObservedQParams());
    }

    public override void AbortCalibration()
    {
        if (_state.Span[0] == Calibrating) _state.Span[0] = Float;
    }

    private QParams ObservedQParams()
    {
        if (Floor is not float floor) return Observer.QParams(Bits);
        var (lo, hi) = Observer.Range;
        return QParams.FromRangeAboveFloor(lo, hi, floor, Bits);
    }

    /// <summary>Sets the grid by hand and starts quantizing (tests, or parameters from elsewhere).</summary>
    public void SetQParams(QParams q)
    {
        if (q.Bits != Bits) throw new ArgumentException($"{Name}: {q.Bits}-bit parameters for a {Bits}-bit quantizer.");
        AffineGrid.Store(_scale, _zeroPoint, q);
        _state.Span[0] = Quantizing;
    }

    /// <summary>Back to the float identity (the observer keeps its state).</summary>
    public void Disable() => _state.Span[0] = Float;

    protected override Var Quantize(Var x)
    {
        switch (_state.Span[0])
        {
            case Calibrating:
                Observer.Observe(x.Value);
                return x;
            case Quantizing:
                if (Training && TrackRangeInTraining)
                {
                    Observer.Observe(x.Value);
                    AffineGrid.Store(_scale, _zeroPoint, ObservedQParams());
                }
                return QFn.FakeQuantize(x, Current!.Value);
            default:
                return x;
        }
    }

    public override QuantizerInfo Describe() =>
        Current is QParams q ? QuantizerInfo.Of(Name, Role, Method, q) : QuantizerInfo.Uncalibrated(Name, Role, Method, Bits, false, -1);
}
