namespace Nanoq.Quant.Taps;

/// <summary>Which statistics a <see cref="FoldedConv"/> folds into its weights while training.</summary>
public enum BnFoldMode
{
    /// <summary>
    /// The paper's F (eq. 13–14): μ_EMA and σ²_EMA frozen at their trained values for the whole fine-tuning, never
    /// updated; γ, β and W keep learning through the fold. Train and eval fold identically.
    /// </summary>
    Frozen,

    /// <summary>
    /// The baseline of eq. 11–12 (Jacob et al. 2018): in training, run the float conv once for the batch's μ_B, σ²_B,
    /// fold with them (gradients flow through the statistics) and update the running averages; in eval, fold with
    /// the running averages. With <see cref="FoldedConv.FreezeBnAtStep"/> set, switch to <see cref="Frozen"/> from that
    /// training step on (Krishnamoorthi 2018: freeze the statistics for the last N steps).
    /// </summary>
    BatchStats,
}
