namespace Nanoq.Tests;

/// <summary>
/// A <see cref="FactAttribute"/> that sets <see cref="FactAttribute.Skip"/> when an instruction set the test needs is
/// missing. xunit 2.9 has no dynamic skip from inside a test; the attribute is read at discovery, which runs in the
/// test process on the same machine, so the runner's summary counts the test as skipped with the reason.
/// </summary>
public sealed class FactRequiresAttribute : FactAttribute
{
    public FactRequiresAttribute(params Isa[] isas)
    {
        if (IsaSupport.SkipReason(isas) is { } reason) Skip = reason;
    }
}
