namespace Nanoq.Detection.Integer;

/// <summary>
/// MobileNetV2 on codes, as <see cref="Nn.Backbones.MobileNetV2"/>: <c>features.0 … features.18</c> in a chain — the
/// first and last conv units and the inverted residual blocks between — with C2–C5 taken after the features at
/// <see cref="StageIndices"/>.
/// </summary>
public sealed class IntMobileNetV2 : IIntBackbone
{
    public IntMobileNetV2(IReadOnlyList<IIntBlock> features, IReadOnlyList<int> stageIndices)
    {
        if (stageIndices.Count != 4) throw new ArgumentException($"IntMobileNetV2: {stageIndices.Count} stage indices, expected 4.");
        for (int s = 0; s < 4; s++)
            if (stageIndices[s] < 0 || stageIndices[s] >= features.Count || (s > 0 && stageIndices[s] <= stageIndices[s - 1]))
                throw new ArgumentException($"IntMobileNetV2: stage indices [{string.Join(", ", stageIndices)}] must rise within {features.Count} features.");
        foreach (var f in features)
            if (f is not (IntConvUnit or IntInvertedResidual)) throw new ArgumentException($"IntMobileNetV2: a {f.GetType().Name} is not a MobileNetV2 feature.");
        Features = features;
        StageIndices = stageIndices;
    }

    public IReadOnlyList<IIntBlock> Features { get; }
    public IReadOnlyList<int> StageIndices { get; }

    public CodeTensor[] Stages(CodeTensor x, IntForwardContext ctx)
    {
        var c = new CodeTensor[4];
        int s = 0;
        for (int i = 0; i < Features.Count && s < 4; i++)
        {
            x = Features[i].Forward(x, ctx);
            if (i == StageIndices[s]) c[s++] = x;
        }
        return c;
    }

    public IEnumerable<IIntUnit> Layers =>
        Features.SelectMany(f => f switch { IntConvUnit c => [c], IntInvertedResidual r => r.Layers, _ => Enumerable.Empty<IIntUnit>() });
}
