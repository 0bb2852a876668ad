namespace Nanoq.Kernels;

/// <summary>
/// 2-D convolution over NCHW float tensors (geometry and formula: <see cref="Conv2dGeometry"/>), lowered to GEMM on
/// the register-blocked micro-kernels of <see cref="Gemm"/>: forward and its two gradients side by side.
/// <list type="bullet">
/// <item>Forward: y_{n,g} = W_g · col(x_{n,g}) (+ b) as an implicit GEMM. The image is laid out once per block of
/// rows as a phase buffer (<see cref="Conv2dPhase"/>: zero padding and stride phases resolved), in which every im2col
/// row is a contiguous run, so the micro-kernel reads B in place (<see cref="Conv2dDirectGemm"/>); im2col is never
/// materialised. 1×1 stride-1 convs multiply by the image planes directly.</item>
/// <item>Input gradient: stride 1 — a forward convolution of dy with the 180°-rotated, channel-swapped kernel and
/// padding dil·(k − 1) − pad; otherwise dcol = W_gᵀ · dy_{n,g} on the phase grid, then col2im by contiguous adds.</item>
/// <item>Weight gradient: dW_g = Σ_n dy_{n,g} · col(x_{n,g})ᵀ, colᵀ panels packed from the phase buffer; K (= N·OH·OW)
/// is cut into chunks fixed by the sizes, each summed into a private partial, partials added in order.</item>
/// <item>3 × 3 stride-1 convolutions with at least 16 channels, 64 output tiles and 14 × 14 outputs (ResNet's first
/// three stages, the detectors' wider maps): forward and both gradients by Winograd's F(4 × 4, 3 × 3) instead, a quarter of the
/// multiplies (<see cref="Conv2dWinograd"/>; <see cref="Winograd"/> turns it off).</item>
/// <item>Depthwise (groups = Cin = Cout): the direct kernels of <see cref="DepthwiseConv2dKernels"/>.</item>
/// </list>
/// Work is split over <see cref="ParallelRunner.MaxDegreeOfParallelism"/> cores by images, groups and row or
/// weight-column ranges — never in a way that changes an operation order, so results are bit-identical on any
/// thread count. Scratch (packed weights, phase buffers, panels, partials) is per thread and reused: steady state
/// allocates nothing.
/// </summary>
public static unsafe class Conv2dKernels
{
    /// <summary>Upper bound on the floats of weight-gradient partial sums (beyond it, K is split less).</summary>
    private const long PartialBudget = 1 << 20;
    private const int MaxWeightChunks = 8;
    private const int MinPixelsPerChunk = 256;

    /// <summary>
    /// Whether 3 × 3 stride-1 convolutions with at least 16 channels, 64 output tiles and 14 × 14 outputs run by Winograd's
    /// F(4 × 4, 3 × 3) (<see cref="Conv2dWinograd"/>: a quarter of the multiplies, a coarser rounding) — forward, input
    /// gradient and weight gradient. On by default; the environment variable <c>NANOQ_WINOGRAD=0</c> (read at start-up)
    /// or this switch turns it off, and every convolution then takes the direct path, whose rounding is that of a plain
    /// sum (the results of runs before 2026-12-07). Set it between calls, not during one.
    /// </summary>
    public static bool Winograd
    {
        get => Conv2dWinograd.Enabled;
        set => Conv2dWinograd.Enabled = value;
    }

    /// <summary>
    /// y[N, Cout, OH, OW] = conv(x[N, Cin, H, W], w[Cout, Cin/groups, KH, KW]) + bias[Cout].
    /// <paramref name="bias"/> may be empty (no bias). <paramref name="output"/> is overwritten.
    /// </summary>
    public static void Conv2dForward(in Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<float> output)
    {
        g.CheckLength("input", input.Length, g.InputLength);
        g.CheckLength("weight", weight.Length, g.WeightLength);
        if (!bias.IsEmpty) g.CheckLength("bias", bias.Length, g.OutChannels);
        g.CheckLength("output", output.Length, g.OutputLength);
        fixed (float* x = input)
        fixed (float* w = weight)
        fixed (float* b = bias)
        fixed (float* y = output)
        {
            if (g.IsDepthwise) DepthwiseConv2dKernels.ForwardCore(g, x, w, bias.IsEmpty ? null : b, y, 0f);
            else ForwardCore(g, x, w, bias.IsEmpty ? null : b, y, 0f);
        }
    }

    /// <summary>
    /// dx[N, Cin, H, W] = ∂L/∂x given dy[N, Cout, OH, OW] = ∂L/∂y and w. Overwrites <paramref name="gradInput"/>, or adds
    /// to it when <paramref name="accumulate"/>.
    /// </summary>
    public static void Conv2dBackwardInput(in Conv2dGeometry g, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> weight,
        Span<float> gradInput, bool accumulate = false)
    {
        g.CheckLength("gradOutput", gradOutput.Length, g.OutputLength);
        g.CheckLength("weight", weight.Length, g.WeightLength);
        g.CheckLength("gradInput", gradInput.Length, g.InputLength);
        fixed (float* dy = gradOutput)
        fixed (float* w = weight)
        fixed (float* dx = gradInput)
        {
            if (g.IsDepthwise) DepthwiseConv2dKernels.BackwardInputCore(g, dy, w, dx, accumulate);
            else BackwardInputCore(g, dy, w, dx, accumulate);
        }
    }

    /// <summary>
    /// dw[Cout, Cin/groups, KH, KW] = ∂L/∂w and, unless <paramref name="gradBias"/> is empty, db[Cout] = ∂L/∂b = Σ_{n,oy,ox} dy,
    /// given x and dy. Overwrites, or adds when <paramref name="accumulate"/>.
    /// </summary>
    public static void Conv2dBackwardWeight(in Conv2dGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput,
        Span<float> gradWeight, Span<float> gradBias, bool accumulate = false)
    {
        g.CheckLength("input", input.Length, g.InputLength);
        g.CheckLength("gradOutput", gradOutput.Length, g.OutputLength);
        g.CheckLength("gradWeight", gradWeight.Length, g.WeightLength);
        if (!gradBias.IsEmpty) g.CheckLength("gradBias", gradBias.Length, g.OutChannels);
        fixed (float* x = input)
        fixed (float* dy = gradOutput)
        fixed (float* dw = gradWeight)
        fixed (float* db = gradBias)
        {
            if (g.IsDepthwise) DepthwiseConv2dKernels.BackwardWeightCore(g, x, dy, dw, accumulate);
            else BackwardWeightCore(g, x, dy, dw, accumulate);
            if (!gradBias.IsEmpty) BiasGradCore(g, dy, db, accumulate);
        }
    }

    /// <summary>y = conv(x, w) + b, or y = conv(x, w) + y when <paramref name="beta"/> = 1 (no bias then).</summary>
    internal static void ForwardCore(in Conv2dGeometry g, float* x, float* w, float* bias, float* y, float beta)
    {
        if (g.Batch == 0 || g.OutChannels == 0) return;
        int mg = g.GroupOutChannels, kg = g.PatchSize;
        if (kg == 0)
        {
            // No input channels: y = bias (or y unchanged when accumulating).
            if (beta == 0f)
                for (long i = 0; i < g.OutputLength; i++) y[i] = bias == null ? 0f : bias[i / g.OutputPlane % g.OutChannels];
            return;
        }
        if (Conv2dWinograd.Suits(g))
        {
            Conv2dWinograd.Forward(g, x, w, flipped: false, bias, y, beta);
            return;
        }
        if (Conv2dBatchedGemm.Suits(g))
        {
            Conv2dBatchedGemm.Forward(g, x, new GemmPackANormal(w, kg), bias, y, beta);
            return;
        }
        long groupStride = GemmDriver.PrepackedFloats(mg, kg);
        float* packed = GemmScratch.Current.Get(GemmScratch.Weights, Math.Max(1, g.Groups * groupStride));
        for (int gi = 0; gi < g.Groups; gi++)
        {
            var pa = new GemmPackANormal(w + (long)gi * mg * kg, kg);
            if (g.IsPointwise) GemmDriver.PrepackA(ref pa, mg, kg, packed + gi * groupStride);
            else Conv2dDirectGemm.Prepack(ref pa, mg, kg, packed + gi * groupStride);
        }
        var task = new Conv2dForwardTask
        {
            G = g, X = x, PackedW = packed, Bias = bias, Y = y, PackedGroupStride = groupStride, Beta = beta,
            ChunksPerImage = RowChunks(g.Batch * g.Groups, g.OutHeight, g.ForwardFlops),
        };
        ParallelRunner.Run(g.Batch * g.Groups * task.ChunksPerImage, ref task);
    }

    internal static void BackwardInputCore(in Conv2dGeometry g, float* dy, float* w, float* dx, bool accumulate)
    {
        if (g.Batch == 0 || g.InChannels == 0) return;
        if (g.OutChannels == 0)
        {
            if (!accumulate) Conv2dSpan.Zero(dx, g.InputLength);
            return;
        }
        int mg = g.GroupOutChannels, kg = g.PatchSize, cg = g.GroupInChannels;
        if (g.StrideH == 1 && g.StrideW == 1)
        {
            // dx = conv(dy, rot180(w)ᵀ) with "full" padding dil·(k − 1) − pad (negative = crop); output H×W.
            var t = Conv2dGeometry.Unchecked(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels,
                g.KernelH, g.KernelW, 1, 1, g.DilationH * (g.KernelH - 1) - g.PadH, g.DilationW * (g.KernelW - 1) - g.PadW,
                g.DilationH, g.DilationW, g.Groups);
            if (Conv2dWinograd.Suits(t))
            {
                Conv2dWinograd.Forward(t, dy, w, flipped: true, null, dx, accumulate ? 1f : 0f);
                return;
            }
            if (Conv2dBatchedGemm.Suits(t))
            {
                Conv2dBatchedGemm.Forward(t, dy, new Conv2dPackAFlipped(w, cg, g.KernelH, g.KernelW), null, dx, accumulate ? 1f : 0f);
                return;
            }
            long groupStride = GemmDriver.PrepackedFloats(cg, t.PatchSize);
            float* packed = GemmScratch.Current.Get(GemmScratch.Weights, Math.Max(1, g.Groups * groupStride));
            for (int gi = 0; gi < g.Groups; gi++)
            {
                var pa = new Conv2dPackAFlipped(w + (long)gi * mg * kg, cg, g.KernelH, g.KernelW);
                if (t.IsPointwise) GemmDriver.PrepackA(ref pa, cg, t.PatchSize, packed + gi * groupStride);
                else Conv2dDirectGemm.Prepack(ref pa, cg, t.PatchSize, packed + gi * groupStride);
            }
            var task = new Conv2dForwardTask
            {
                G = t, X = dy, PackedW = packed, Bias = null, Y = dx, PackedGroupStride = groupStride,
                Beta = accumulate ? 1f : 0f,
                ChunksPerImage = RowChunks(g.Batch * g.Groups, t.OutHeight, g.ForwardFlops),
            };
            ParallelRunner.Run(g.Batch * g.Groups * task.ChunksPerImage, ref task);
        }
        else
        {
            long groupStride = GemmDriver.PrepackedFloats(kg, mg);
            float* packed = GemmScratch.Current.Get(GemmScratch.Weights, Math.Max(1, g.Groups * groupStride));
            for (int gi = 0; gi < g.Groups; gi++)
            {
                var pa = new GemmPackATransposed(w + (long)gi * mg * kg, kg);
                GemmDriver.PrepackA(ref pa, kg, mg, packed + gi * groupStride);
            }
            int images = g.Batch * g.Groups, threads = ParallelRunner.MaxDegreeOfParallelism;
            int channelChunks = images >= 2 * threads || g.ForwardFlops < 2 * GemmSplit.MinParallelFlops
                ? 1 : Math.Clamp((2 * threads + images - 1) / images, 1, (cg + 7) / 8);
            var task = new Conv2dBackwardInputTask
            {
                G = g, Dy = dy, PackedWt = packed, Dx = dx, PackedGroupStride = groupStride, Accumulate = accumulate,
                ChannelChunks = channelChunks,
            };
            ParallelRunner.Run(images * channelChunks, ref task);
        }
    }

    internal static void BackwardWeightCore(in Conv2dGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        if (g.OutChannels == 0 || g.WeightLength == 0) return;
        if (Conv2dWinograd.Suits(g))
        {
            Conv2dWinograd.BackwardWeight(g, x, dy, dw, accumulate);
            return;
        }
        if (Conv2dBatchedGemm.Suits(g))
        {
            Conv2dBatchedGemm.BackwardWeight(g, x, dy, dw, accumulate);
            return;
        }
        int kg = g.PatchSize;
        long total = (long)g.Batch * g.OutputPlane;
        // K chunks (ranges of output rows): a function of the sizes alone (never of the thread count), so the sums
        // are reproducible.
        long chunkCap = Math.Min(Math.Min(PartialBudget / g.WeightLength, total / MinPixelsPerChunk), (long)g.Batch * g.OutHeight);
        int chunks = (int)Math.Clamp(chunkCap, 1, MaxWeightChunks);
        int threads = ParallelRunner.MaxDegreeOfParallelism;
        int columnSplits = Math.Clamp(2 * threads / (chunks * g.Groups), 1, Math.Max(1, (kg + 31) / 32));
        if (2.0 * total * g.WeightLength < GemmSplit.MinParallelFlops) columnSplits = 1;

        float* partials = dw;
        long stride = g.WeightLength;
        if (chunks > 1) partials = GemmScratch.Current.Get(GemmScratch.Partials, chunks * stride);
        var task = new Conv2dBackwardWeightTask
        {
            G = g, X = x, Dy = dy, Partials = partials, PartialStride = stride, Chunks = chunks,
            ColumnSplits = columnSplits, FirstBeta = chunks == 1 && accumulate ? 1f : 0f,
        };
        ParallelRunner.Run(chunks * g.Groups * columnSplits, ref task);
        if (chunks > 1)
        {
            var reduce = new Conv2dReduceTask
            {
                Dst = dw, Partials = partials, Length = stride, PartialStride = stride, Parts = chunks,
                Accumulate = accumulate, Tasks = stride >= 1 << 16 ? threads : 1,
            };
            ParallelRunner.Run(reduce.Tasks, ref reduce);
        }
    }

    internal static void BiasGradCore(in Conv2dGeometry g, float* dy, float* db, bool accumulate)
    {
        var task = new Conv2dBiasGradTask
        {
            Dy = dy, Db = db, Batch = g.Batch, Channels = g.OutChannels, Plane = g.OutputPlane, Accumulate = accumulate,
            Tasks = (long)g.OutputLength >= 1 << 16 ? Math.Min(ParallelRunner.MaxDegreeOfParallelism, Math.Max(1, g.OutChannels)) : 1,
        };
        ParallelRunner.Run(task.Tasks, ref task);
    }

    /// <summary>
    /// Row chunks per (image, group) so that there are about two tasks per thread, each worth at least
    /// <see cref="GemmSplit.MinParallelFlops"/>; one chunk when the images alone give enough tasks. Only the speed
    /// depends on it.
    /// </summary>
    private static int RowChunks(int images, int rows, double flops)
    {
        int threads = ParallelRunner.MaxDegreeOfParallelism;
        if (threads <= 1 || flops < 2 * GemmSplit.MinParallelFlops) return 1;
        int want = 2 * threads;
        if (images >= want) return 1;
        int chunks = (want + images - 1) / images;
        int byWork = (int)Math.Min(int.MaxValue, flops / images / GemmSplit.MinParallelFlops);
        return Math.Clamp(chunks, 1, Math.Max(1, Math.Min(rows, byWork)));
    }
}
