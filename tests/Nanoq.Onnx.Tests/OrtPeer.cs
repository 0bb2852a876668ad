using System.Reflection;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nanoq.Onnx.Proto;

namespace Nanoq.Onnx.Tests;

/// <summary>ONNX Runtime as the independent peer: runs a ModelProto and returns the named values.</summary>
internal static class OrtPeer
{
    /// <summary>
    /// Runs <paramref name="model"/> (a copy with <paramref name="values"/> added as graph outputs, so intermediates come
    /// back too) on one float input; each result as (data, dims).
    /// </summary>
    public static Dictionary<string, (float[] Data, int[] Dims)> Run(ModelProto model, float[] input, int[] dims, IReadOnlyList<string> values)
    {
        var m = model.Clone();
        foreach (var v in values)
            if (m.Graph.Output.All(o => o.Name != v))
                m.Graph.Output.Add(new ValueInfoProto { Name = v, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 2 };
        using var session = new InferenceSession(m.ToByteArray(), options);
        string inputName = session.InputMetadata.Keys.Single();
        var x = new DenseTensor<float>(input, dims);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, x)], values.ToArray());
        return results.ToDictionary(r => r.Name, r =>
        {
            var t = r.AsTensor<float>();
            return (t.ToArray(), t.Dimensions.ToArray());
        });
    }

    /// <summary>max |a − b| / max |b|: the error relative to the reference tensor's scale.</summary>
    public static double MaxRelativeError(ReadOnlySpan<float> nanoq, ReadOnlySpan<float> reference)
    {
        Assert.Equal(reference.Length, nanoq.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)nanoq[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)reference[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    public static string? ResNet18Path()
    {
        string? p = typeof(OrtPeer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "ResNet18Onnx")?.Value;
        return p is not null && File.Exists(p) ? p : OnnxBackbone.FindResNet18ImageNet();
    }
}
