using System.Globalization;

namespace Nanoq.Coco.Evaluation;

/// <summary>
/// Python's <c>'{:0.Nf}'.format(x)</c>: the exact binary value rounded half to even. .NET's "F" format rounds exact
/// halves away from zero instead. An exact half at N decimals is (2j+1)/(2·10^N), which as a double must be a
/// multiple of 2^−(N+1); such values have at most N+1 decimal digits, so they are printed exactly with N+1
/// decimals and rounded half-even in <see cref="decimal"/>. Every other value cannot be a tie and "F" is right.
/// </summary>
internal static class PyFormat
{
    public static string Fixed(double x, int decimals)
    {
        string format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        double y = Math.ScaleB(x, decimals + 1);
        if (Math.Abs(x) < 1e20 && y == Math.Floor(y))
        {
            string exact = x.ToString("F" + (decimals + 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            decimal d = decimal.Parse(exact, CultureInfo.InvariantCulture);
            return Math.Round(d, decimals, MidpointRounding.ToEven).ToString(format, CultureInfo.InvariantCulture);
        }
        return x.ToString(format, CultureInfo.InvariantCulture);
    }
}
