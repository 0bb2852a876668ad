using System.Text;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// How one output code of an integer conv comes about, step by step — the zero-point expansion of gemmlowp's
/// quantization.md, then the output stage:
/// <code>
///     Σ (w − z_w)(x − z_x) = Σ w·x − z_x·Σ w − z_w·Σ x + K·z_w·z_x      (x = z_x where the patch reads padding)
///     acc = that + bias_q
///     y   = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0, shift), lo, hi)
/// </code>
/// Built by <see cref="IntAudit.Conv(in Conv2dGeometry, ReadOnlySpan{byte}, int, ReadOnlySpan{byte}, ReadOnlySpan{int}, ReadOnlySpan{int}, Requantization, int, int, int, int)"/>
/// from the codes alone (independently of the kernels, so tests can compare); sums are int64 so an overflow would show.
/// </summary>
public sealed record ConvTrace(
    int Batch, int Channel, int Y, int X, int Terms, int PaddedTerms,
    long SumWX, long SumW, long SumX, int InputZeroPoint, int WeightZeroPoint,
    long ZxSumW, long ZwSumX, long KZwZx, long Dot, int Bias, int Acc,
    FixedPointTrace Requantize, int OutputZeroPoint, int PreClamp, int ClampMin, int ClampMax, int Output)
{
    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append($"conv output [n={Batch}, c={Channel}, y={Y}, x={X}]: K = {Terms} terms ({PaddedTerms} read padding as z_x = {InputZeroPoint})\n");
        s.Append($"  Σ w·x                       = {SumWX}\n");
        s.Append($"  − z_x · Σ w    = {InputZeroPoint} · {SumW}  → −{ZxSumW}\n");
        s.Append($"  − z_w · Σ x    = {WeightZeroPoint} · {SumX}  → −{ZwSumX}\n");
        s.Append($"  + K · z_w · z_x = {Terms} · {WeightZeroPoint} · {InputZeroPoint} → +{KZwZx}\n");
        s.Append($"  = Σ (w − z_w)(x − z_x)      = {Dot}\n");
        s.Append($"  + bias_q                    = {Bias}\n");
        s.Append($"  = acc (int32)               = {Acc}\n");
        s.Append(Requantize);
        s.Append($"  + z_y = {Requantize.Result} + {OutputZeroPoint} = {PreClamp}\n");
        s.Append($"  clamp to [{ClampMin}, {ClampMax}] → y_q = {Output}\n");
        return s.ToString();
    }
}
