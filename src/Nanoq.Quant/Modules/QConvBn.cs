using Nanoq.Nn.Taps;
using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;

namespace Nanoq.Quant.Modules;

/// <summary>
/// A trained conv (+ batch norm) (+ ReLU/ReLU6) as one quantized layer, the unit of FQN's fine-tuning:
/// <code>
///     (W_fold, b_fold) = fold(W, b, γ, β, μ, σ²)           eq. 13–14 (F) or eq. 11–12 (batch statistics)
///     y = act(conv(x, Q_w(W_fold)) + b_fold)                Q_w per channel (C) or per tensor, STE
///     ŷ = Q_a(y)                                            the output activation quantizer, STE
/// </code>
/// The input is expected quantized already (by the previous layer's output quantizer, or an input quantizer).
/// The bias stays float here: the integer runtime stores it as int32 at scale Δ_w·Δ_x, whose rounding is far
/// below one output step (PyTorch's QAT modules leave it float too).
///
/// Parameters are shared with the wrapped <see cref="Conv2d"/> and <see cref="BatchNorm2d"/> (children "conv" and
/// "bn", so their state dict names carry over); W, b, γ, β learn through the fold. Running statistics follow
/// <see cref="FoldMode"/>. Without a BN (e.g. a detection head's last conv) there is nothing to fold.
/// </summary>
public sealed class QConvBn : Layer, IHasQuantizers
{
    public QConvBn(Conv2d conv, BatchNorm2d? bn, ActivationKind activation, WeightQuantizer weightQuantizer,
                   ActQuantizer? outputQuantizer, BnFoldMode foldMode = BnFoldMode.Frozen, int? freezeBnAtStep = null)
    {
        if (bn is not null && bn.Channels != conv.OutChannels)
            throw new ArgumentException($"QConvBn: batch norm of {bn.Channels} channels after a conv with {conv.OutChannels} outputs.");
        if (freezeBnAtStep is < 0) throw new ArgumentOutOfRangeException(nameof(freezeBnAtStep), "QConvBn: the freeze step must be non-negative.");
        Conv = Child("conv", conv);
        Bn = bn is null ? null : Child("bn", bn);
        Activation = activation;
        WeightQuantizer = weightQuantizer;
        OutputQuantizer = outputQuantizer;
        FoldMode = foldMode;
        FreezeBnAtStep = freezeBnAtStep;
        WeightQuantizer.Source = () => FoldedWeight();
    }

    public Conv2d Conv { get; }
    public BatchNorm2d? Bn { get; }
    public ActivationKind Activation { get; }
    public WeightQuantizer WeightQuantizer { get; }
    public ActQuantizer? OutputQuantizer { get; }
    public BnFoldMode FoldMode { get; }

    /// <summary>With <see cref="BnFoldMode.BatchStats"/>: the training step from which the statistics freeze (Krishnamoorthi's last N steps).</summary>
    public int? FreezeBnAtStep { get; }

    /// <summary>Training-mode forwards so far (the clock of <see cref="FreezeBnAtStep"/>).</summary>
    public int Step { get; set; }

    /// <summary>Whether the next training forward folds batch statistics (eq. 11–12) rather than the frozen EMA ones.</summary>
    public bool UsesBatchStats =>
        Bn is not null && Training && FoldMode == BnFoldMode.BatchStats && !(FreezeBnAtStep is int f && Step >= f);

    IEnumerable<(string LocalName, IQuantizer Quantizer)> IHasQuantizers.Quantizers =>
        OutputQuantizer is null ? [("weight", WeightQuantizer)] : [("weight", WeightQuantizer), ("out", OutputQuantizer)];

    public override void Train(bool training = true)
    {
        base.Train(training);
        OutputQuantizer?.Train(training);
    }

    public override Var Forward(Var x)
    {
        Var w;
        Var? b;
        var c = Conv;
        if (Bn is null)
        {
            w = c.Weight;
            b = c.Bias;
        }
        else if (UsesBatchStats)
        {
            // eq. 11–12: the float conv once for the batch's statistics (differentiable), then fold with them.
            // The conv bias is left out of the statistics run: BN with batch statistics cancels it exactly.
            var y0 = Fn.Conv2d(x, c.Weight, null, c.Stride, c.Padding, c.Dilation, c.Groups);
            var (mean, variance) = QFn.BatchMoments(y0);
            UpdateRunningStats(mean.Value, variance.Value, y0.Shape[0] * y0.Shape[2] * y0.Shape[3]);
            w = QFn.FoldBnWeight(c.Weight, Bn.Weight, variance, Bn.Eps);
            b = QFn.FoldBnBias(null, Bn.Weight, Bn.Bias, mean, variance, Bn.Eps);
        }
        else
        {
            // eq. 13–14: μ_EMA, σ²_EMA are constants of the graph, never updated.
            w = QFn.FoldBnWeight(c.Weight, Bn.Weight, new Var(Bn.RunningVar), Bn.Eps);
            b = QFn.FoldBnBias(c.Bias, Bn.Weight, Bn.Bias, new Var(Bn.RunningMean), new Var(Bn.RunningVar), Bn.Eps);
        }
        if (Training) Step++;

        var y = Fn.Conv2d(x, WeightQuantizer.Apply(w), b, c.Stride, c.Padding, c.Dilation, c.Groups);
        // XNOR's sign is the nonlinearity (its block is BN → sign → conv): a ReLU before it would make every sign +1.
        bool signOut = OutputQuantizer is { Scheme: QuantScheme.Xnor };
        if (!signOut) y = ConvUnit.Activate(y, Activation);
        return OutputQuantizer is null ? y : OutputQuantizer.Forward(y);
    }

    /// <summary>
    /// PyTorch's running-statistics update: μ ← (1 − m) μ + m μ_B, σ² ← (1 − m) σ² + m σ²_B · N/(N − 1) (unbiased),
    /// with μ_B including the conv bias the statistics run left out.
    /// </summary>
    private void UpdateRunningStats(Tensor batchMean, Tensor batchVar, int count)
    {
        if (count < 2) throw new InvalidOperationException($"QConvBn: batch statistics need more than one value per channel, got {count}.");
        float m = Bn!.Momentum;
        double unbias = count / (double)(count - 1);
        var rm = Bn.RunningMean.Span; var rv = Bn.RunningVar.Span;
        var bm = batchMean.Span; var bv = batchVar.Span;
        var bias = Conv.Bias is null ? default : Conv.Bias.Value.Span;
        for (int ch = 0; ch < rm.Length; ch++)
        {
            float mu = bm[ch] + (bias.IsEmpty ? 0f : bias[ch]);
            rm[ch] = (1f - m) * rm[ch] + m * mu;
            rv[ch] = (float)((1.0 - m) * rv[ch] + m * bv[ch] * unbias);
        }
    }

    /// <summary>
    /// The weights and bias the deployed layer computes with: folded with the running statistics (eq. 13–14), in float,
    /// before weight quantization (the integer conversion quantizes them with <see cref="WeightQuantizer"/>'s parameters).
    /// </summary>
    public (Tensor Weight, Tensor Bias) Folded()
    {
        // Tensor-level (no graph nodes), so a tape that is current cannot release what the caller keeps.
        if (Bn is null) return (Conv.Weight.Value.Clone(), Conv.Bias?.Value.Clone() ?? Tensor.Zeros(Conv.OutChannels));
        var w = BnFold.Weight(Conv.Weight.Value, Bn.Weight.Value, Bn.RunningVar, Bn.Eps);
        var b = BnFold.Bias(Conv.Bias?.Value, Bn.Weight.Value, Bn.Bias.Value, Bn.RunningMean, Bn.RunningVar, Bn.Eps);
        return (w, b);
    }

    /// <summary>W_fold alone (what <see cref="WeightQuantizer"/> describes).</summary>
    public Tensor FoldedWeight()
    {
        var (w, b) = Folded();
        b.Dispose();
        return w;
    }
}
