namespace Nanoq.Quant;

/// <summary>Which quantization method a quantizer implements (the FQN paper's and the baselines of its Table 5).</summary>
public enum QuantScheme
{
    /// <summary>FQN / PyTorch affine uniform quantization: k-bit codes, scale Δ, zero point z (DESIGN.md §5).</summary>
    Affine,

    /// <summary>
    /// DoReFa-Net (Zhou et al. 2016, arXiv:1606.06160): weights tanh-normalized to [0, 1] then k-bit uniform (eq. 9 of
    /// that paper); activations clipped to [0, 1] then k-bit uniform.
    /// </summary>
    DoReFa,

    /// <summary>
    /// XNOR-Net (Rastegari et al. 2016, arXiv:1603.05279): binary weights α·sign(W) with α = mean |W| per output
    /// channel (§3.1), sign activations (§3.2).
    /// </summary>
    Xnor,

    /// <summary>LSQ (Esser et al., ICLR 2020): affine grids whose steps Δ are learned by the optimizer.</summary>
    Lsq,
}
