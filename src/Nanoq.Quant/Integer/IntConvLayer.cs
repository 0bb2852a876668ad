using System.Text.Json;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// One integer conv layer as the runtime holds it — a <c>ConvUnit</c> (conv → folded BN → activation) after
/// conversion: sizes, weight codes with per-channel zero points, int32 bias, the requantization (M0, shift per output
/// channel, z_y, clamp) and the input's zero point and bit width. Runs any input size
/// (<see cref="Forward"/>), explains any output (<see cref="Trace"/>), and round-trips through an NQIM file as tensors
/// <c>{name}.weight</c> (u8 codes, k bits), <c>{name}.weight_zero_point</c>, <c>{name}.bias</c>, <c>{name}.multiplier</c>,
/// <c>{name}.shift</c> (the zero points and shifts in the narrowest type that holds them, <see cref="IntTensor.Compact"/>) plus one JSON object of attributes (<see cref="WriteJson"/> / <see cref="Read"/>).
/// </summary>
public sealed class IntConvLayer
{
    private readonly int[] _bias;

    public IntConvLayer(string name, int inChannels, int outChannels, int kernelH, int kernelW, int strideH, int strideW,
        int padH, int padW, int dilationH, int dilationW, int groups, ReadOnlySpan<byte> weightCodes, ReadOnlySpan<int> weightZeroPoints,
        int weightBits, int inputZeroPoint, int inputBits, ReadOnlySpan<int> bias, Requantization requantization,
        IntConvPath path = IntConvPath.Auto)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (strideH < 1 || strideW < 1 || padH < 0 || padW < 0 || dilationH < 1 || dilationW < 1)
            throw new ArgumentException($"IntConvLayer '{name}': stride {strideH}x{strideW}, padding {padH}x{padW}, dilation {dilationH}x{dilationW} are invalid.");
        Weights = IntConv2dWeights.Pack(outChannels, inChannels, kernelH, kernelW, groups, weightCodes, weightZeroPoints, weightBits, inputBits, path);
        if (!bias.IsEmpty && bias.Length != outChannels)
            throw new ArgumentException($"IntConvLayer '{name}': {bias.Length} biases for {outChannels} output channels.");
        if ((uint)inputZeroPoint > (uint)((1 << inputBits) - 1))
            throw new ArgumentOutOfRangeException(nameof(inputZeroPoint), $"IntConvLayer '{name}': z_x = {inputZeroPoint} is off the {inputBits}-bit grid.");
        requantization.CheckChannels(outChannels, $"IntConvLayer '{name}'");
        Name = name;
        StrideH = strideH;
        StrideW = strideW;
        PadH = padH;
        PadW = padW;
        DilationH = dilationH;
        DilationW = dilationW;
        InputZeroPoint = inputZeroPoint;
        _bias = bias.IsEmpty ? new int[outChannels] : bias.ToArray();
        Requantization = requantization;
        if (path == IntConvPath.Auto && IntConvPhases.Suits(inChannels, groups, kernelH, kernelW, strideH, strideW, dilationH, dilationW))
            _phases = IntConvPhases.Pack(Weights);
    }

    /// <summary>The stem's weights by phases (<see cref="IntConvPhases"/>: a stride-2 conv over ≤ 4 channels), or null.</summary>
    private readonly IntConv2dWeights? _phases;

    public string Name { get; }
    public IntConv2dWeights Weights { get; }
    public int InChannels => Weights.InChannels;
    public int OutChannels => Weights.OutChannels;
    public int KernelH => Weights.KernelH;
    public int KernelW => Weights.KernelW;
    public int StrideH { get; }
    public int StrideW { get; }
    public int PadH { get; }
    public int PadW { get; }
    public int DilationH { get; }
    public int DilationW { get; }
    public int Groups => Weights.Groups;
    public int InputZeroPoint { get; }
    public int InputBits => Weights.InputBits;
    public ReadOnlySpan<int> Bias => _bias;
    public Requantization Requantization { get; }

    /// <summary>The geometry for an input of [batch, C_in, height, width].</summary>
    public Conv2dGeometry Geometry(int batch, int height, int width) =>
        new(batch, InChannels, height, width, OutChannels, KernelH, KernelW, StrideH, StrideW, PadH, PadW, DilationH, DilationW, Groups);

    /// <summary>Output codes [batch, C_out, OH, OW] (sizes: <see cref="Geometry"/>).</summary>
    public void Forward(int batch, int height, int width, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (_phases is not null) IntConvPhases.Forward(Geometry(batch, height, width), input, InputZeroPoint, _phases, _bias, Requantization, output);
        else IntConv2d.Forward(Geometry(batch, height, width), input, InputZeroPoint, Weights, _bias, Requantization, output);
    }

    /// <summary>The step-by-step computation of output [n, c, oy, ox].</summary>
    public ConvTrace Trace(int batch, int height, int width, ReadOnlySpan<byte> input, int n, int c, int oy, int ox) =>
        IntAudit.Conv(Geometry(batch, height, width), input, InputZeroPoint, Weights, _bias, Requantization, n, c, oy, ox);

    /// <summary>The layer's tensors for an NQIM file.</summary>
    public IEnumerable<IntTensor> ToTensors()
    {
        yield return IntTensor.Codes($"{Name}.weight", [OutChannels, InChannels / Groups, KernelH, KernelW], Weights.Codes, Weights.WeightBits);
        yield return IntTensor.Compact($"{Name}.weight_zero_point", Weights.ZeroPoints);
        yield return IntTensor.Int32($"{Name}.bias", _bias);
        foreach (var t in RequantizationJson.Tensors(Name, Requantization)) yield return t;
    }

    /// <summary>
    /// Writes the attributes as one JSON object: <c>{"name", "op": "conv2d", "in_channels", "out_channels", "kernel": [h, w],
    /// "stride": [h, w], "padding": [h, w], "dilation": [h, w], "groups", "input_zero_point", "input_bits",
    /// "output_zero_point", "clamp": [lo, hi], "rounding": "double" | "single"}</c> (rounding optional on reading: double). A converter may add properties of its own (e.g. the scales Δ).
    /// </summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        WriteProperties(w);
        w.WriteEndObject();
    }

    /// <summary>The properties of <see cref="WriteJson"/> without the braces, for a converter that adds its own.</summary>
    public void WriteProperties(Utf8JsonWriter w)
    {
        w.WriteString("name", Name);
        w.WriteString("op", "conv2d");
        WriteAttributes(w);
    }

    /// <summary>The attributes alone (no name and op), for a program op that writes those itself.</summary>
    public void WriteAttributes(Utf8JsonWriter w)
    {
        w.WriteNumber("in_channels", InChannels);
        w.WriteNumber("out_channels", OutChannels);
        Pair(w, "kernel", KernelH, KernelW);
        Pair(w, "stride", StrideH, StrideW);
        Pair(w, "padding", PadH, PadW);
        Pair(w, "dilation", DilationH, DilationW);
        w.WriteNumber("groups", Groups);
        w.WriteNumber("input_zero_point", InputZeroPoint);
        w.WriteNumber("input_bits", InputBits);
        RequantizationJson.Write(w, Requantization);
    }

    /// <summary>
    /// Rebuilds a layer from its JSON object and the model's tensors (names from the "name" property). A variant layer
    /// that shares another's weights (the same conv compiled for another input grid) passes that layer's name as
    /// <paramref name="weightFrom"/>: the weight codes and zero points are read from it, everything else from its own.
    /// </summary>
    public static IntConvLayer Read(IntModel model, JsonElement layer, IntConvPath path = IntConvPath.Auto, string? weightFrom = null)
    {
        string name = LayerJson.String(layer, "name");
        string weights = weightFrom ?? name;
        var (kh, kw) = LayerJson.Pair(layer, "kernel", name);
        var (sh, sw) = LayerJson.Pair(layer, "stride", name);
        var (ph, pw) = LayerJson.Pair(layer, "padding", name);
        var (dh, dw) = LayerJson.Pair(layer, "dilation", name);
        var weight = model[$"{weights}.weight"];
        var rq = RequantizationJson.Read(model, layer, name);
        return new IntConvLayer(name, LayerJson.Int(layer, "in_channels", name), LayerJson.Int(layer, "out_channels", name), kh, kw, sh, sw,
            ph, pw, dh, dw, LayerJson.Int(layer, "groups", name), weight.AsCodes(), model[$"{weights}.weight_zero_point"].ToInt32(), weight.Bits,
            LayerJson.Int(layer, "input_zero_point", name), LayerJson.Int(layer, "input_bits", name), model[$"{name}.bias"].AsInt32(), rq, path);
    }

    private static void Pair(Utf8JsonWriter w, string key, int a, int b)
    {
        w.WriteStartArray(key);
        w.WriteNumberValue(a);
        w.WriteNumberValue(b);
        w.WriteEndArray();
    }
}
