namespace Nanoq.Detection.Integer;

/// <summary>
/// Sees every layer's inputs and output during a forward pass, in execution order, and may replace the output — for
/// audits (capture a layer's input codes to explain one output) and for agreement tests (substitute the reference
/// model's codes, so each layer is compared given the same inputs, without differences compounding).
/// </summary>
public interface IIntForwardHook
{
    /// <summary>
    /// Called after a layer named <paramref name="layer"/>.Name ran for the <paramref name="occurrence"/>-th time in
    /// this pass, counting variants together (the head's layers run once per pyramid level: occurrence = level − 3). The tensors are arena buffers: copy what you keep.
    /// Return null to keep <paramref name="output"/>, or codes of the same shape and zero point to continue with.
    /// </summary>
    CodeTensor? AfterLayer(IIntUnit layer, int occurrence, IReadOnlyList<CodeTensor> inputs, CodeTensor output);
}
