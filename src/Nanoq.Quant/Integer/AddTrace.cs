using System.Text;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// How one output code of a quantized add comes about (TFLite's ADD, <see cref="QuantizedAdd"/>):
/// <code>
///     a' = MultiplyByQuantizedMultiplier((a − z_a) · 2^L, M_a),   b' likewise
///     y  = clamp(z_y + MultiplyByQuantizedMultiplier(a' + b', M_y), lo, hi)
/// </code>
/// </summary>
public sealed record AddTrace(
    int A, int ZeroPointA, int ShiftedA, FixedPointTrace RescaleA,
    int B, int ZeroPointB, int ShiftedB, FixedPointTrace RescaleB,
    int LeftShift, int Sum, FixedPointTrace Requantize, int OutputZeroPoint, int PreClamp, int ClampMin, int ClampMax, int Output)
{
    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append($"add: a = {A} (z_a = {ZeroPointA}), b = {B} (z_b = {ZeroPointB}), left shift L = {LeftShift}\n");
        s.Append($"  (a − z_a) · 2^L = {ShiftedA}\n");
        s.Append(RescaleA);
        s.Append($"  (b − z_b) · 2^L = {ShiftedB}\n");
        s.Append(RescaleB);
        s.Append($"  a' + b' = {RescaleA.Result} + {RescaleB.Result} = {Sum}\n");
        s.Append(Requantize);
        s.Append($"  + z_y = {Requantize.Result} + {OutputZeroPoint} = {PreClamp}\n");
        s.Append($"  clamp to [{ClampMin}, {ClampMax}] → y_q = {Output}\n");
        return s.ToString();
    }
}
