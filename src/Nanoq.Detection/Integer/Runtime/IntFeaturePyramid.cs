namespace Nanoq.Detection.Integer;

/// <summary>
/// The FPN on codes, as <see cref="FeaturePyramid"/>:
/// <code>
///     inner5 = lateral5(C5)                            P5 = output5(inner5)
///     inner4 = topdown4(lateral4(C4), up(inner5))      P4 = output4(inner4)
///     inner3 = topdown3(lateral3(C3), up(inner4))      P3 = output3(inner3)
///     P6 = p6(C5)                                      P7 = p7(max(P6, z_P6))
/// </code>
/// Upsampling copies codes (the coarse level's grid goes into the add as operand b); the ReLU before P7 is a clamp at
/// P6's zero point, so P7's conv reads P6's grid.
/// </summary>
public sealed class IntFeaturePyramid
{
    public IntFeaturePyramid(IReadOnlyList<IntConvUnit> lateral, IReadOnlyList<IntConvUnit> output, IReadOnlyList<IntAddUnit> topDown,
        IntConvUnit p6, IntConvUnit p7)
    {
        if (lateral.Count != 3 || output.Count != 3 || topDown.Count != 2)
            throw new ArgumentException($"IntFeaturePyramid: {lateral.Count} laterals, {output.Count} outputs, {topDown.Count} adds (expected 3, 3, 2).");
        Lateral = lateral;
        Output = output;
        TopDown = topDown;
        P6 = p6;
        P7 = p7;
    }

    /// <summary>lateral3, lateral4, lateral5.</summary>
    public IReadOnlyList<IntConvUnit> Lateral { get; }

    /// <summary>output3, output4, output5.</summary>
    public IReadOnlyList<IntConvUnit> Output { get; }

    /// <summary>topdown3, topdown4.</summary>
    public IReadOnlyList<IntAddUnit> TopDown { get; }

    public IntConvUnit P6 { get; }
    public IntConvUnit P7 { get; }

    public int Channels => P6.OutChannels;

    /// <summary>[C2, C3, C4, C5] (C2 unused) → [P3, P4, P5, P6, P7].</summary>
    public CodeTensor[] Forward(CodeTensor[] c, IntForwardContext ctx)
    {
        var inner5 = Lateral[2].Forward(c[3], ctx);
        var lat4 = Lateral[1].Forward(c[2], ctx);
        var inner4 = TopDown[1].Forward(lat4, CodeOps.UpsampleNearest(inner5, c[2].Height, c[2].Width, ctx), ctx);
        var lat3 = Lateral[0].Forward(c[1], ctx);
        var inner3 = TopDown[0].Forward(lat3, CodeOps.UpsampleNearest(inner4, c[1].Height, c[1].Width, ctx), ctx);
        var p6 = P6.Forward(c[3], ctx);
        var p7 = P7.Forward(CodeOps.Relu(p6, ctx), ctx);
        return [Output[0].Forward(inner3, ctx), Output[1].Forward(inner4, ctx), Output[2].Forward(inner5, ctx), p6, p7];
    }

    public IEnumerable<IIntUnit> Layers => [Lateral[2], Lateral[1], TopDown[1], Lateral[0], TopDown[0], P6, P7, Output[0], Output[1], Output[2]];
}
