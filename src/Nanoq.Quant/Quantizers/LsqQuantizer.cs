using Nanoq.Autograd;
using Nanoq.Quant.Observers;

namespace Nanoq.Quant.Quantizers;

/// <summary>
/// LSQ (Esser et al., ICLR 2020): the affine grid's step Δ is a parameter (<c>scale</c>, [C] per output channel for
/// weights, [1] for activations) that the optimizer learns with the network, through <see cref="QFn.LsqFakeQuantize"/>
/// (its doc comment has the gradient and its scale 1/√(N·Q)). z (buffer <c>zero_point</c>) is fixed when Δ is
/// initialized, so real 0 stays exact and the integer runtime converts the grid like any other
/// (<see cref="ConvertsToInteger"/>).
/// <para>
/// Initialization — where this differs from the paper's 2⟨|v|⟩/√Q_P: Δ and z start from FQN's own grid, so LSQ begins
/// where FQN's fine-tuning would: weights from the per-channel (or per-tensor) min/max of the folded weights at the first
/// forward, activations from percentile calibration (<see cref="Calibrator"/>; the observer is a child, as in
/// <see cref="ActQuantizer"/>). Buffer <c>initialized</c> records that it happened, so a restored quantizer keeps its
/// learned Δ.
/// </para>
/// </summary>
public sealed class LsqQuantizer : FakeQuantizer
{
    private readonly Tensor _zeroPoint, _initialized;
    private readonly bool _calibrating;
    private bool _recording;

    /// <param name="channels">steps: the output channels for per-channel weights, 1 otherwise.</param>
    public LsqQuantizer(int bits, QuantizerRole role, bool perChannel, int channels, RangeObserver? observer = null) : base(bits, role)
    {
        QuantBits.Check(bits, nameof(LsqQuantizer));
        if (role == QuantizerRole.Activation && perChannel) throw new ArgumentException("LsqQuantizer: activations are quantized per tensor.");
        PerChannel = perChannel;
        int c = perChannel ? channels : 1;
        Scale = Parameter("scale", Tensor.Ones(c));
        _zeroPoint = Buffer("zero_point", Tensor.Zeros(c));
        _initialized = Buffer("initialized", Tensor.Zeros(1));
        if (role == QuantizerRole.Activation)
        {
            Observer = Child("observer", observer ?? new PercentileObserver());
            _calibrating = true;
        }
    }

    public override string Method => "lsq";
    public override bool ConvertsToInteger => true;
    public override bool NeedsCalibration => _calibrating;

    public bool PerChannel { get; }

    /// <summary>Δ, learned.</summary>
    public Var Scale { get; }

    public RangeObserver? Observer { get; }

    public bool IsInitialized => _initialized.Span[0] != 0f;

    /// <summary>The consumer's floor (as <see cref="ActQuantizer.Floor"/>), applied to the initial grid.</summary>
    public float? Floor { get; init; }

    public override void BeginCalibration()
    {
        Observer!.Reset();
        _recording = true;
    }

    public override void BeginCalibrationBatch() => Observer?.BeginBatch();

    public override void EndCalibrationBatch() => Observer?.EndBatch();

    public override bool SawCalibrationData => Observer is null || Observer.Batches > 0;

    public override void EndCalibration()
    {
        Observer!.EndBatch();
        _recording = false;
        if (Observer.Batches == 0)
            throw new InvalidOperationException($"{Name}: the calibration batches never reached this activation quantizer, so it has no range.");
        var (lo, hi) = Observer.Range;
        Initialize(Floor is float f ? QParams.FromRangeAboveFloor(lo, hi, f, Bits) : QParams.FromRange(lo, hi, Bits));
    }

    public override void AbortCalibration() => _recording = false;

    /// <summary>Sets Δ and z by hand (the initial grid).</summary>
    public void Initialize(QParams q)
    {
        Scale.Value.Span.Fill(q.Scale);
        _zeroPoint.Span.Fill(q.ZeroPoint);
        _initialized.Span[0] = 1f;
    }

    private void Initialize(ChannelQParams q)
    {
        for (int c = 0; c < q.Channels; c++)
        {
            Scale.Value.Span[c] = q.Scales[c];
            _zeroPoint.Span[c] = q.ZeroPoints[c];
        }
        _initialized.Span[0] = 1f;
    }

    protected override Var Quantize(Var x)
    {
        if (_recording)
        {
            Observer!.Observe(x.Value);
            return x;
        }
        if (!IsInitialized)
        {
            if (Role == QuantizerRole.Activation) return x; // not calibrated yet: the float identity
            if (PerChannel) Initialize(ChannelQParams.FromTensor(x.Value, Bits, 0));
            else Initialize(QParams.FromTensor(x.Value, Bits));
        }
        return QFn.LsqFakeQuantize(x, Scale, ZeroPoints(), Bits, PerChannel);
    }

    private int[] ZeroPoints()
    {
        var z = new int[_zeroPoint.Size];
        for (int c = 0; c < z.Length; c++) z[c] = (int)_zeroPoint.Span[c];
        return z;
    }

    /// <summary>The grid as it stands: Δ clamped below as the forward uses it.</summary>
    public override QuantizerInfo Describe()
    {
        if (!IsInitialized) return QuantizerInfo.Uncalibrated(Name, Role, Method, Bits, PerChannel, PerChannel ? 0 : -1);
        var steps = Scale.Value.Span.ToArray().Select(s => MathF.Max(s, QParams.MinScale)).ToArray();
        var q = new ChannelQParams(steps, ZeroPoints(), Bits, 0);
        return PerChannel ? QuantizerInfo.Of(Name, Role, Method, q) : QuantizerInfo.Of(Name, Role, Method, q[0]);
    }
}
