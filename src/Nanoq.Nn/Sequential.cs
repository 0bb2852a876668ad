using Nanoq.Autograd;

namespace Nanoq.Nn;

/// <summary>Layers applied in order; children are named "0", "1", … as in <c>torch.nn.Sequential</c>.</summary>
public sealed class Sequential : Layer
{
    private readonly List<Layer> _layers = new();

    public Sequential(params Layer[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    public Sequential Add(Layer layer)
    {
        Child(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public IReadOnlyList<Layer> Layers => _layers;

    public Layer this[int i] => _layers[i];

    public override Var Forward(Var x)
    {
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}
