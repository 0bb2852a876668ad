using Nanoq.Autograd;

namespace Nanoq.Quant.Modules;

/// <summary>
/// Quantizes a layer's (folded) weights on every forward, with ranges taken from the weights as they are at that step:
/// <list type="bullet">
/// <item><see cref="QuantScheme.Affine"/>, per channel (the paper's C, eq. 9–10): lb_c = min W_c, ub_c = max W_c over
/// output channel c (axis 0), then <see cref="ChannelQParams.FromRanges"/> and per-channel fake quantization;
/// per tensor (the ablation's alternative): one min/max over W.</item>
/// <item><see cref="QuantScheme.DoReFa"/>: <see cref="QFn.DoReFaWeight"/>; <see cref="QuantScheme.Xnor"/>: <see cref="QFn.XnorWeight"/>.</item>
/// </list>
/// The range is not differentiated (PyTorch's weight FakeQuantize with a MinMax observer does the same): the STE
/// passes the gradient to the weights that fall inside it, which with min/max ranges is all of them.
/// Not a module: it belongs to the layer whose weights it quantizes (<see cref="QConvBn"/>).
/// </summary>
public sealed class WeightQuantizer : IQuantizer
{
    private object? _last; // QParams or ChannelQParams of the last forward

    public WeightQuantizer(int bits, bool perChannel, QuantScheme scheme = QuantScheme.Affine)
    {
        if (scheme != QuantScheme.Xnor) QuantBits.Check(bits, nameof(WeightQuantizer));
        Bits = scheme == QuantScheme.Xnor ? 1 : bits;
        PerChannel = scheme == QuantScheme.Xnor || (scheme == QuantScheme.Affine && perChannel);
        Scheme = scheme;
    }

    public string Name { get; set; } = "weight";

    public QuantizerRole Role => QuantizerRole.Weight;

    /// <summary>k (1 for XNOR).</summary>
    public int Bits { get; }

    /// <summary>Per output channel (axis 0) or per tensor. DoReFa is per tensor, XNOR per channel, by their definitions.</summary>
    public bool PerChannel { get; }

    public QuantScheme Scheme { get; }

    /// <summary>False: weights pass through in float (the calibration pass runs the float model).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The tensor <see cref="Describe"/> reads: the owning layer's deployable weights (folded with the running
    /// statistics). Without it, Describe reports the parameters of the last forward.
    /// </summary>
    public Func<Tensor>? Source { get; set; }

    /// <summary>Ŵ = quantize(W) with the STE; W itself when <see cref="Enabled"/> is false.</summary>
    public Var Apply(Var weight)
    {
        if (!Enabled) return weight;
        switch (Scheme)
        {
            case QuantScheme.DoReFa:
                return QFn.DoReFaWeight(weight, Bits);
            case QuantScheme.Xnor:
                return QFn.XnorWeight(weight);
            default:
                if (PerChannel)
                {
                    var q = ChannelQParams.FromTensor(weight.Value, Bits, axis: 0);
                    _last = q;
                    return QFn.FakeQuantize(weight, q);
                }
                else
                {
                    var q = QParams.FromTensor(weight.Value, Bits);
                    _last = q;
                    return QFn.FakeQuantize(weight, q);
                }
        }
    }

    public QuantizerInfo Describe()
    {
        if (Source is not null)
        {
            using var w = Source();
            return Describe(w);
        }
        return _last switch
        {
            QParams q => QuantizerInfo.Of(Name, Role, q),
            ChannelQParams cq => QuantizerInfo.Of(Name, Role, cq),
            _ => QuantizerInfo.Uncalibrated(Name, Role, Scheme, Bits, PerChannel, PerChannel ? 0 : -1),
        };
    }

    /// <summary>The parameters this quantizer would use for weights <paramref name="w"/>.</summary>
    public QuantizerInfo Describe(Tensor w)
    {
        switch (Scheme)
        {
            case QuantScheme.DoReFa:
            {
                float s = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(w.Span);
                s = MathF.Abs(s);
                return new QuantizerInfo(Name, Role, Scheme, Bits, false, -1, [2f * s / ((1 << Bits) - 1)], [], [-s], [s], true);
            }
            case QuantScheme.Xnor:
            {
                var a = QFn.XnorScales(w);
                return new QuantizerInfo(Name, Role, Scheme, 1, true, 0, a, [], a.Select(v => -v).ToArray(), a, true);
            }
            default:
                return PerChannel
                    ? QuantizerInfo.Of(Name, Role, ChannelQParams.FromTensor(w, Bits, 0))
                    : QuantizerInfo.Of(Name, Role, QParams.FromTensor(w, Bits));
        }
    }
}
