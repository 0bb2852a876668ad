using System.Text.Json;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// One integer fully connected layer (Faster R-CNN's box head): [N, in] codes → [N, out] codes with per-output weight
/// zero points, int32 bias and requantization (<see cref="IntFullyConnected"/>). NQIM tensors <c>{name}.weight</c>
/// (u8 codes, k bits), <c>{name}.weight_zero_point</c>, <c>{name}.bias</c>, <c>{name}.multiplier</c>, <c>{name}.shift</c>;
/// JSON <c>{"name", "op": "linear", "in_features", "out_features", "input_zero_point", "input_bits",
/// "output_zero_point", "clamp": [lo, hi], "rounding"}</c>.
/// </summary>
public sealed class IntLinearLayer
{
    private readonly int[] _bias;

    public IntLinearLayer(string name, int inFeatures, int outFeatures, ReadOnlySpan<byte> weightCodes, ReadOnlySpan<int> weightZeroPoints,
        int weightBits, int inputZeroPoint, int inputBits, ReadOnlySpan<int> bias, Requantization requantization)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Weights = IntFullyConnectedWeights.Pack(outFeatures, inFeatures, weightCodes, weightZeroPoints, weightBits, inputBits);
        if (!bias.IsEmpty && bias.Length != outFeatures)
            throw new ArgumentException($"IntLinearLayer '{name}': {bias.Length} biases for {outFeatures} outputs.");
        if ((uint)inputZeroPoint > (uint)((1 << inputBits) - 1))
            throw new ArgumentOutOfRangeException(nameof(inputZeroPoint), $"IntLinearLayer '{name}': z_x = {inputZeroPoint} is off the {inputBits}-bit grid.");
        requantization.CheckChannels(outFeatures, $"IntLinearLayer '{name}'");
        Name = name;
        InputZeroPoint = inputZeroPoint;
        _bias = bias.IsEmpty ? new int[outFeatures] : bias.ToArray();
        Requantization = requantization;
    }

    public string Name { get; }
    public IntFullyConnectedWeights Weights { get; }
    public int InFeatures => Weights.InFeatures;
    public int OutFeatures => Weights.OutFeatures;
    public int InputZeroPoint { get; }
    public ReadOnlySpan<int> Bias => _bias;
    public Requantization Requantization { get; }

    public void Forward(int batch, ReadOnlySpan<byte> input, Span<byte> output) =>
        IntFullyConnected.Forward(batch, input, InputZeroPoint, Weights, _bias, Requantization, output);

    public IEnumerable<IntTensor> ToTensors()
    {
        yield return IntTensor.Codes($"{Name}.weight", [OutFeatures, InFeatures], Weights.Codes, Weights.WeightBits);
        yield return IntTensor.Compact($"{Name}.weight_zero_point", Weights.ZeroPoints);
        yield return IntTensor.Int32($"{Name}.bias", _bias);
        foreach (var t in RequantizationJson.Tensors(Name, Requantization)) yield return t;
    }

    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("op", "linear");
        WriteAttributes(w);
        w.WriteEndObject();
    }

    /// <summary>The attributes alone (no name and op), for a program op that writes those itself.</summary>
    public void WriteAttributes(Utf8JsonWriter w)
    {
        w.WriteNumber("in_features", InFeatures);
        w.WriteNumber("out_features", OutFeatures);
        w.WriteNumber("input_zero_point", InputZeroPoint);
        w.WriteNumber("input_bits", Weights.InputBits);
        RequantizationJson.Write(w, Requantization);
    }

    public static IntLinearLayer Read(IntModel model, JsonElement layer)
    {
        string name = LayerJson.String(layer, "name");
        var rq = RequantizationJson.Read(model, layer, name);
        var weight = model[$"{name}.weight"];
        return new IntLinearLayer(name, LayerJson.Int(layer, "in_features", name), LayerJson.Int(layer, "out_features", name),
            weight.AsCodes(), model[$"{name}.weight_zero_point"].ToInt32(), weight.Bits, LayerJson.Int(layer, "input_zero_point", name),
            LayerJson.Int(layer, "input_bits", name), model[$"{name}.bias"].AsInt32(), rq);
    }
}
