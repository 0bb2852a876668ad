namespace Nanoq.Kernels;

/// <summary>
/// How a micro-tile's accumulator <c>acc</c> (one K block of α·op(A)·op(B)) is merged into C:
/// <list type="bullet">
/// <item>first K block, β = 0: <c>C = α·acc + bias[row]</c> (C is not read, so NaNs in C do not leak, as BLAS);</item>
/// <item>first K block, β ≠ 0: <c>C = fma(β, C, α·acc) + bias[row]</c>;</item>
/// <item>later K blocks: <c>C = fma(acc, α, C)</c>.</item>
/// </list>
/// The vector and scalar (edge) paths apply exactly these operations, so an element's value never depends on
/// whether it fell in a full or a partial tile.
/// </summary>
internal readonly unsafe struct GemmEpilogue
{
    public readonly float Alpha;
    public readonly float Beta;
    /// <summary>Bias of the tile's first row (null: none); row r adds <c>RowBias[r]</c>.</summary>
    public readonly float* RowBias;
    /// <summary>0: accumulate, 1: overwrite (β = 0), 2: scale by β.</summary>
    public readonly int Mode;

    public const int Accumulate = 0, Overwrite = 1, ScaleBeta = 2;

    public GemmEpilogue(float alpha, float beta, float* rowBias, int mode)
    {
        Alpha = alpha;
        Beta = beta;
        RowBias = rowBias;
        Mode = mode;
    }

    /// <summary>The same epilogue for the tile starting <paramref name="rows"/> rows further down.</summary>
    public GemmEpilogue Offset(int rows) => new(Alpha, Beta, RowBias == null ? null : RowBias + rows, Mode);
}
