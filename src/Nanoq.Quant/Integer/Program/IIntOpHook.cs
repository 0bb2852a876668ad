namespace Nanoq.Quant.Integer.Program;

/// <summary>Sees every op's inputs and output during a run (capture, audit, teacher forcing).</summary>
public interface IIntOpHook
{
    /// <summary>Called after <paramref name="op"/> ran; a non-null return replaces its output for the ops that follow.</summary>
    CodeTensor? AfterOp(IntOp op, IReadOnlyList<CodeTensor> inputs, CodeTensor output);
}
