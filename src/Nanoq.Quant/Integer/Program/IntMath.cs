namespace Nanoq.Quant.Integer.Program;

/// <summary>min, max and clamp of ints, so the runtime calls nothing of System.Math (its float overloads share the type; the IL test forbids it whole).</summary>
internal static class IntMath
{
    public static int Min(int a, int b) => a < b ? a : b;
    public static int Max(int a, int b) => a > b ? a : b;
    public static int Clamp(int v, int lo, int hi) => v < lo ? lo : v > hi ? hi : v;
}
