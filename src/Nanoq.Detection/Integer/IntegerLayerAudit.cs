using System.Globalization;
using System.Text;
using Nanoq.Detection.Integer;
using Nanoq.Quant;
using Nanoq.Quant.Integer;

namespace Nanoq.Detection;

/// <summary>
/// How one output code of one layer came about, for <c>nanoq inspect</c>: the integer computation step by step
/// (<see cref="ConvTrace"/> or <see cref="AddTrace"/>, recomputed from the codes by <see cref="IntAudit"/>), and — float,
/// for people only — the real value the code stands for on the layer's output grid, x̂ = (q − z)·Δ.
/// </summary>
public sealed record IntegerLayerAudit(string Name, int Occurrence, IIntUnit Layer, int N, int C, int Y, int X,
                                       ConvTrace? Conv, AddTrace? Add, QParams Output)
{
    /// <summary>The layer's output code at [N, C, Y, X].</summary>
    public int Code => Conv?.Output ?? Add!.Output;

    /// <summary>(q − z)·Δ on the output grid.</summary>
    public float RealValue => (Code - Output.ZeroPoint) * Output.Scale;

    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{Layer.Key} (call {Occurrence}), output [{N}, {C}, {Y}, {X}]\n");
        s.Append(Conv?.ToString() ?? Add!.ToString());
        s.Append(CultureInfo.InvariantCulture, $"  real value: (y_q − z_y)·Δ_y = ({Code} − {Output.ZeroPoint})·{Output.Scale:G6} = {RealValue:G6}\n");
        return s.ToString();
    }
}
