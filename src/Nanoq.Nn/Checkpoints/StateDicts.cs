namespace Nanoq.Nn.Checkpoints;

/// <summary>Prefixing and unprefixing of state-dict names (a checkpoint holds "model.*", "optim.*"), in one place.</summary>
public static class StateDicts
{
    /// <summary>The entries of <paramref name="all"/> whose names start with <paramref name="prefix"/>, with it removed.</summary>
    public static Dictionary<string, Tensor> Unprefixed(IReadOnlyDictionary<string, Tensor> all, string prefix) =>
        all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    /// <summary>Adds every entry of <paramref name="part"/> to <paramref name="into"/> under <paramref name="prefix"/>.</summary>
    public static void AddPrefixed(Dictionary<string, Tensor> into, IReadOnlyDictionary<string, Tensor> part, string prefix)
    {
        foreach (var (k, v) in part) into[prefix + k] = v;
    }

    /// <summary>A model's parameters from a training checkpoint's "model." entries (strict: every name must match).</summary>
    public static void LoadModel(Module model, string checkpointPath)
    {
        var all = Safetensors.Load(checkpointPath);
        try
        {
            model.LoadStateDict(Unprefixed(all, "model."));
        }
        catch (StateDictException e)
        {
            throw new StateDictException($"{checkpointPath}: {e.Message}", e);
        }
    }
}
