namespace Nanoq.Detection.Integer;

/// <summary>The state of one forward pass: where buffers come from, and the optional hook with its call counts per layer name.</summary>
public sealed class IntForwardContext
{
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);

    public IntForwardContext(CodeArena arena, IIntForwardHook? hook = null)
    {
        Arena = arena;
        Hook = hook;
    }

    public CodeArena Arena { get; }
    public IIntForwardHook? Hook { get; }

    /// <summary>Reports a layer's result to the hook; returns the tensor to continue with.</summary>
    public CodeTensor After(IIntUnit layer, CodeTensor output, params CodeTensor[] inputs)
    {
        if (Hook is null) return output;
        int occurrence = _calls.GetValueOrDefault(layer.Name);
        _calls[layer.Name] = occurrence + 1;
        var replaced = Hook.AfterLayer(layer, occurrence, inputs, output);
        if (replaced is null) return output;
        if (!replaced.SameShape(output) || replaced.ZeroPoint != output.ZeroPoint || replaced.Bits != output.Bits)
            throw new InvalidOperationException($"{layer.Name}: the hook replaced {output} with {replaced} (shape, zero point and bits must match).");
        return replaced;
    }
}
