using Nanoq.Autograd;

namespace Nanoq.Quant.Quantizers;

/// <summary>
/// FQN's weight quantizer: an affine grid from the (folded) weights as they are at each step —
/// per output channel (the paper's C, eq. 9–10: lb_c = min W_c, ub_c = max W_c over axis 0) or per tensor (the
/// ablation's alternative) — then fake quantization with the STE. The range is not differentiated (PyTorch's weight
/// FakeQuantize with a MinMax observer does the same): the STE passes the gradient to every weight, all of which lie in
/// the min/max range. Each forward stores the grid it used in the buffers <c>scale</c> and <c>zero_point</c> [C], so
/// after an evaluation-mode forward they hold the deployed layer's grid — what conversion reads.
/// </summary>
public sealed class WeightQuantizer : FakeQuantizer
{
    private readonly Tensor _scale, _zeroPoint;

    /// <param name="channels">output channels of the layer (the length of the per-channel buffers).</param>
    public WeightQuantizer(int bits, bool perChannel, int channels) : base(bits, QuantizerRole.Weight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        PerChannel = perChannel;
        _scale = Buffer("scale", Tensor.Zeros(perChannel ? channels : 1)); // 0: no grid yet
        _zeroPoint = Buffer("zero_point", Tensor.Zeros(perChannel ? channels : 1));
    }

    public override string Method => "affine";
    public override bool ConvertsToInteger => true;

    /// <summary>Per output channel (axis 0) or per tensor.</summary>
    public bool PerChannel { get; }

    /// <summary>Whether a forward (or a loaded state dict) has set the grid.</summary>
    public bool HasGrid => _scale.Span[0] > 0f;

    protected override Var Quantize(Var w)
    {
        if (PerChannel)
        {
            var q = ChannelQParams.FromTensor(w.Value, Bits, axis: 0);
            AffineGrid.Store(_scale, _zeroPoint, q);
            return QFn.FakeQuantize(w, q);
        }
        var p = QParams.FromTensor(w.Value, Bits);
        AffineGrid.Store(_scale, _zeroPoint, p);
        return QFn.FakeQuantize(w, p);
    }

    public override QuantizerInfo Describe() =>
        !HasGrid ? QuantizerInfo.Uncalibrated(Name, Role, Method, Bits, PerChannel, PerChannel ? 0 : -1)
        : PerChannel ? QuantizerInfo.Of(Name, Role, Method, AffineGrid.PerChannel(_scale, _zeroPoint, Bits, 0))
        : QuantizerInfo.Of(Name, Role, Method, AffineGrid.PerTensor(_scale, _zeroPoint, Bits));
}
