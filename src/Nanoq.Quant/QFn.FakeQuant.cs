using Nanoq.Autograd;

namespace Nanoq.Quant;

/// <summary>
/// The differentiable quantization ops (as <see cref="Fn"/>, for quantization-aware training): each op is its
/// forward with the backward directly below it. This part: affine fake quantization with the straight-through
/// estimator (eq. 8; arithmetic and PyTorch parity on <see cref="Kernels.FakeQuantKernels"/>).
/// The quantizer parameters are constants of the op: no gradient flows to Δ or z (PyTorch's non-learnable
/// <c>FakeQuantize</c>; ranges come from observers or from the weights' min/max, not from the loss).
/// </summary>
public static partial class QFn
{
    /// <summary>
    /// x̂ = (clamp(round(x · (1/Δ)) + z, 0, 2^k − 1) − z) · Δ (DESIGN.md §5.3; Δ, z from eq. 4 and the zero-point alignment).
    /// Backward (STE, eq. 8): ∂L/∂x = ∂L/∂x̂ where round(x/Δ) + z lies in [0, 2^k − 1], else 0 — recomputed from x,
    /// so the op keeps no mask.
    /// </summary>
    public static Var FakeQuantize(Var x, QParams q)
    {
        var y = FakeQuant.Forward(x.Value, q);
        return Var.Op(y, [x], o => x.AccumulateGrad(FakeQuant.Backward(x.Value, o.Grad!, q), takeOwnership: true));
    }

    /// <summary>
    /// Per-channel fake quantization along <see cref="ChannelQParams.Axis"/> (the paper's C, eq. 9–10): channel c uses
    /// (Δ_c, z_c). Backward: the STE with each channel's own mask.
    /// </summary>
    public static Var FakeQuantize(Var x, ChannelQParams q)
    {
        var y = FakeQuant.Forward(x.Value, q);
        return Var.Op(y, [x], o => x.AccumulateGrad(FakeQuant.Backward(x.Value, o.Grad!, q), takeOwnership: true));
    }
}
