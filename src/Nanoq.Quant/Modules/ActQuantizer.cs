using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Quant.Observers;

namespace Nanoq.Quant.Modules;

/// <summary>
/// Quantizes one activation per tensor (layer-wise, DESIGN.md §5.6): a conv output, a residual add, an upsample, the
/// input image. Its life follows the FQN pipeline:
/// <list type="number">
/// <item><see cref="ActQuantState.Float"/> until calibrated: the identity.</item>
/// <item><see cref="ActQuantState.Calibrating"/> during <see cref="Calibrator.Calibrate{TBatch}"/>: the identity, with every
/// batch recorded by the <see cref="Observer"/> (percentiles for P, EMA of min/max otherwise).</item>
/// <item><see cref="ActQuantState.Quantizing"/> for fine-tuning and evaluation: x̂ = fake_quant(x; Δ, z) with the STE.
/// With P the range stays fixed; for the EMA baseline (<see cref="TrackRangeInTraining"/>) each training forward first
/// updates the EMA with the batch and quantizes with the result (Jacob et al. 2018; PyTorch's FakeQuantize), while
/// evaluation uses the range as it stands.</item>
/// </list>
/// DoReFa activations (fixed range [0, 1]) and XNOR sign activations need no calibration and quantize from the start.
/// Standalone it is a layer named "out" under its module path (<c>backbone.layer2.0.add.out</c>); inside a
/// <see cref="QConvBn"/> it is that layer's "out".
/// </summary>
public sealed class ActQuantizer : Layer, IQuantizer, IHasQuantizers
{
    private QParams? _qparams;

    public ActQuantizer(int bits, RangeObserver? observer = null, QuantScheme scheme = QuantScheme.Affine)
    {
        if (scheme != QuantScheme.Xnor) QuantBits.Check(bits, nameof(ActQuantizer));
        Bits = scheme == QuantScheme.Xnor ? 1 : bits;
        Scheme = scheme;
        Observer = observer ?? new PercentileObserver();
        State = scheme == QuantScheme.Affine ? ActQuantState.Float : ActQuantState.Quantizing;
        if (scheme == QuantScheme.DoReFa) _qparams = QFn.DoReFaActivationQParams(bits);
    }

    public string Name { get; set; } = "out";

    public QuantizerRole Role => QuantizerRole.Activation;

    /// <summary>k (1 for XNOR's sign).</summary>
    public int Bits { get; }

    public QuantScheme Scheme { get; }

    public RangeObserver Observer { get; }

    public ActQuantState State { get; private set; }

    /// <summary>
    /// The consumer's floor of this activation (<see cref="Nn.Taps.Tap.ConsumerFloor"/>), or null: every range the
    /// observer gives is raised to it by <see cref="QParams.FromRangeAboveFloor"/>, so no level is spent on values
    /// the consumer cannot tell apart. Affine quantizers only (DoReFa and XNOR grids are fixed).
    /// </summary>
    public float? Floor { get; init; }

    /// <summary>Keep updating the observer from every training batch while quantizing (the EMA baseline; off for P).</summary>
    public bool TrackRangeInTraining { get; set; }

    /// <summary>The current parameters (affine and DoReFa), null before calibration.</summary>
    public QParams? Current => _qparams;

    IEnumerable<(string LocalName, IQuantizer Quantizer)> IHasQuantizers.Quantizers => [("out", this)];

    /// <summary>Forgets the observer's history and starts recording (state <see cref="ActQuantState.Calibrating"/>).</summary>
    public void BeginCalibration()
    {
        if (Scheme != QuantScheme.Affine) return;
        Observer.Reset();
        State = ActQuantState.Calibrating;
    }

    /// <summary>Fixes Δ, z from what the observer saw and starts quantizing; throws (naming this quantizer) if it saw nothing.</summary>
    public void EndCalibration()
    {
        if (Scheme != QuantScheme.Affine) return;
        if (Observer.Batches == 0)
            throw new InvalidOperationException($"{Name}: the calibration batches never reached this activation quantizer, so it has no range.");
        _qparams = ObservedQParams();
        State = ActQuantState.Quantizing;
    }

    private QParams ObservedQParams()
    {
        if (Floor is not float floor) return Observer.QParams(Bits);
        var (lo, hi) = Observer.Range;
        return QParams.FromRangeAboveFloor(lo, hi, floor, Bits);
    }

    /// <summary>Sets the range by hand and starts quantizing (tests, or parameters loaded from elsewhere).</summary>
    public void SetQParams(QParams q)
    {
        if (Scheme != QuantScheme.Affine) throw new InvalidOperationException($"{Name}: a {Scheme} quantizer has a fixed grid.");
        if (q.Bits != Bits) throw new ArgumentException($"{Name}: {q.Bits}-bit parameters for a {Bits}-bit quantizer.");
        _qparams = q;
        State = ActQuantState.Quantizing;
    }

    /// <summary>Back to the float identity (the observer keeps its state).</summary>
    public void Disable() => State = ActQuantState.Float;

    public override Var Forward(Var x)
    {
        switch (Scheme)
        {
            case QuantScheme.Xnor:
                return State == ActQuantState.Float ? x : QFn.SignSte(x);
            case QuantScheme.DoReFa:
                return State == ActQuantState.Float ? x : QFn.FakeQuantize(x, _qparams!.Value);
        }
        switch (State)
        {
            case ActQuantState.Calibrating:
                Observer.Observe(x.Value);
                return x;
            case ActQuantState.Quantizing:
                if (Training && TrackRangeInTraining)
                {
                    Observer.Observe(x.Value);
                    _qparams = ObservedQParams();
                }
                return QFn.FakeQuantize(x, _qparams!.Value);
            default:
                return x;
        }
    }

    public QuantizerInfo Describe() => Scheme switch
    {
        QuantScheme.Xnor => new QuantizerInfo(Name, Role, Scheme, 1, false, -1, [1f], [], [-1f], [1f], true),
        _ when _qparams is QParams q => QuantizerInfo.Of(Name, Role, q) with { Scheme = Scheme },
        _ => QuantizerInfo.Uncalibrated(Name, Role, Scheme, Bits, false, -1),
    };
}
