namespace Nanoq.Kernels;

/// <summary>
/// Direct kernels for depthwise convolution with channel multiplier 1 (groups = Cin = Cout, weight [C, 1, KH, KW]):
/// a GEMM would have M = 1 per group, so each plane is convolved on its own instead. Any kernel size, stride,
/// padding and dilation. Formula and shapes: <see cref="Conv2dGeometry"/>; <see cref="Conv2dKernels"/> routes
/// depthwise geometries here.
/// <list type="bullet">
/// <item>Forward: per plane, a phase buffer of the padded input, each output row a weighted sum of shifted rows.</item>
/// <item>Input gradient: stride 1 — the forward kernel with the 180°-rotated kernel and padding dil·(k − 1) − pad;
/// strided — scatter into a phase buffer and read it back in image order.</item>
/// <item>Weight gradient: per channel, row dot products summed over taps, rows and images in a fixed order.</item>
/// </list>
/// Planes (or channels) are split over <see cref="ParallelRunner.MaxDegreeOfParallelism"/> cores; results do not
/// depend on the split.
/// </summary>
public static unsafe class DepthwiseConv2dKernels
{
    /// <summary>y = depthwise conv(x, w) + bias (bias may be empty). <paramref name="g"/> must be depthwise.</summary>
    public static void DepthwiseConv2dForward(in Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<float> output)
    {
        CheckDepthwise(g);
        Conv2dKernels.Conv2dForward(g, input, weight, bias, output);
    }

    /// <summary>dx (+)= ∂L/∂x of a depthwise convolution. <paramref name="g"/> must be depthwise.</summary>
    public static void DepthwiseConv2dBackwardInput(in Conv2dGeometry g, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> weight,
        Span<float> gradInput, bool accumulate = false)
    {
        CheckDepthwise(g);
        Conv2dKernels.Conv2dBackwardInput(g, gradOutput, weight, gradInput, accumulate);
    }

    /// <summary>dw (+)= ∂L/∂w and db (+)= ∂L/∂b (skipped when empty) of a depthwise convolution.</summary>
    public static void DepthwiseConv2dBackwardWeight(in Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput,
        Span<float> gradWeight, Span<float> gradBias, bool accumulate = false)
    {
        CheckDepthwise(g);
        Conv2dKernels.Conv2dBackwardWeight(g, input, gradOutput, gradWeight, gradBias, accumulate);
    }

    private static void CheckDepthwise(in Conv2dGeometry g)
    {
        if (!g.IsDepthwise)
            throw new ArgumentException($"Depthwise conv2d needs groups = in_channels = out_channels > 1, got {g}.");
    }

    internal static void ForwardCore(in Conv2dGeometry g, float* x, float* w, float* bias, float* y, float beta)
    {
        if (g.Batch == 0) return;
        var task = new DepthwiseConv2dForwardTask { G = g, X = x, W = w, Bias = bias, Y = y, Beta = beta };
        Run(g.Batch * g.InChannels, (long)g.InputLength + g.OutputLength, ref task);
    }

    internal static void BackwardInputCore(in Conv2dGeometry g, float* dy, float* w, float* dx, bool accumulate)
    {
        if (g.Batch == 0) return;
        if (g.StrideH == 1 && g.StrideW == 1)
        {
            int taps = g.KernelH * g.KernelW;
            float* rotated = GemmScratch.Current.Get(GemmScratch.Weights, (long)g.InChannels * taps);
            for (int c = 0; c < g.InChannels; c++)
                for (int t = 0; t < taps; t++) rotated[c * taps + t] = w[c * taps + taps - 1 - t];
            var t1 = Conv2dGeometry.Unchecked(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels,
                g.KernelH, g.KernelW, 1, 1, g.DilationH * (g.KernelH - 1) - g.PadH, g.DilationW * (g.KernelW - 1) - g.PadW,
                g.DilationH, g.DilationW, g.Groups);
            var task = new DepthwiseConv2dForwardTask { G = t1, X = dy, W = rotated, Bias = null, Y = dx, Beta = accumulate ? 1f : 0f };
            Run(g.Batch * g.InChannels, (long)g.InputLength + g.OutputLength, ref task);
        }
        else
        {
            var task = new DepthwiseConv2dBackwardInputTask { G = g, Dy = dy, W = w, Dx = dx, Accumulate = accumulate };
            Run(g.Batch * g.InChannels, (long)g.InputLength + g.OutputLength, ref task);
        }
    }

    internal static void BackwardWeightCore(in Conv2dGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        int threads = (long)g.InputLength + g.OutputLength >= 1 << 15 ? ParallelRunner.MaxDegreeOfParallelism : 1;
        var task = new DepthwiseConv2dBackwardWeightTask
        {
            G = g, X = x, Dy = dy, Dw = dw, Accumulate = accumulate, Tasks = Math.Clamp(2 * threads, 1, g.InChannels),
        };
        ParallelRunner.Run(task.Tasks, ref task);
    }

    private static void Run<T>(int planes, long elements, ref T task) where T : struct, IParallelBody
    {
        if (elements < 1 << 15)
        {
            for (int p = 0; p < planes; p++) task.Invoke(p);
            return;
        }
        ParallelRunner.Run(planes, ref task);
    }
}
