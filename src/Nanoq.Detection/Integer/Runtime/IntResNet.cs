namespace Nanoq.Detection.Integer;

/// <summary>
/// ResNet-18/34/50 on codes, as <see cref="Nn.Backbones.ResNet"/>: stem conv + ReLU, 3×3/2 max pooling on codes (the
/// stem's grid carries through), then layer1–layer4 whose outputs are C2–C5.
/// </summary>
public sealed class IntResNet : IIntBackbone
{
    public IntResNet(IntConvUnit stem, int poolKernel, int poolStride, int poolPadding, IReadOnlyList<IReadOnlyList<IIntBlock>> layers)
    {
        if (layers.Count != 4) throw new ArgumentException($"IntResNet: {layers.Count} stages, expected 4.");
        foreach (var l in layers)
            foreach (var b in l)
                if (b is not (IntBasicBlock or IntBottleneck)) throw new ArgumentException($"IntResNet: a {b.GetType().Name} is not a ResNet block.");
        Stem = stem;
        PoolKernel = poolKernel;
        PoolStride = poolStride;
        PoolPadding = poolPadding;
        StageBlocks = layers;
    }

    public IntConvUnit Stem { get; }
    public int PoolKernel { get; }
    public int PoolStride { get; }
    public int PoolPadding { get; }

    /// <summary>layer1 … layer4.</summary>
    public IReadOnlyList<IReadOnlyList<IIntBlock>> StageBlocks { get; }

    public CodeTensor[] Stages(CodeTensor x, IntForwardContext ctx)
    {
        x = CodeOps.MaxPool(Stem.Forward(x, ctx), PoolKernel, PoolStride, PoolPadding, ctx);
        var c = new CodeTensor[4];
        for (int s = 0; s < 4; s++)
        {
            foreach (var b in StageBlocks[s]) x = b.Forward(x, ctx);
            c[s] = x;
        }
        return c;
    }

    public IEnumerable<IIntUnit> Layers
    {
        get
        {
            yield return Stem;
            foreach (var stage in StageBlocks)
                foreach (var b in stage)
                    foreach (var l in BlockLayers(b)) yield return l;
        }
    }

    private static IEnumerable<IIntUnit> BlockLayers(IIntBlock b) => b switch
    {
        IntBasicBlock bb => bb.Layers,
        IntBottleneck bn => bn.Layers,
        _ => throw new InvalidOperationException($"IntResNet: unexpected block {b.GetType().Name}."),
    };
}
