namespace Nanoq.Tests;

/// <summary>The <see cref="TheoryAttribute"/> counterpart of <see cref="FactRequiresAttribute"/>: every row is skipped,
/// with the reason, when an instruction set the theory needs is missing.</summary>
public sealed class TheoryRequiresAttribute : TheoryAttribute
{
    public TheoryRequiresAttribute(params Isa[] isas)
    {
        if (IsaSupport.SkipReason(isas) is { } reason) Skip = reason;
    }
}
