namespace Nanoq.Nn.Taps;

/// <summary>A tap around a layer with weights (conv or linear unit): it can hold a weight quantizer too.</summary>
public abstract class WeightedTap : Tap
{
    /// <summary>The child name of the weight quantizer (PyTorch's).</summary>
    public const string WeightQuantizerName = "weight_fake_quant";

    /// <summary>The quantizer of the layer's (folded) weights, or null (float).</summary>
    public TensorQuantizer? WeightQuantizer { get; private set; }

    public void SetWeightQuantizer(TensorQuantizer? quantizer)
    {
        WeightQuantizer = quantizer;
        SetChild(WeightQuantizerName, quantizer);
        quantizer?.Train(Training);
    }

    public override void ClearQuantization()
    {
        base.ClearQuantization();
        SetWeightQuantizer(null);
    }

    /// <summary>The weights through the weight quantizer (the identity without one).</summary>
    public Autograd.Var QuantizeWeight(Autograd.Var w) => WeightQuantizer is null ? w : WeightQuantizer.Forward(w);
}
