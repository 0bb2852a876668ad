using Nanoq.Quant.Kernels;

namespace Nanoq.Quant;

/// <summary>
/// Fake quantization on tensors (no autograd; <see cref="QFn"/> wires these into the graph). The arithmetic and
/// its PyTorch parity are documented on <see cref="FakeQuantKernels"/>:
/// <code>
///     x̂ = (clamp(round(x · (1/Δ)) + z, 0, 2^k − 1) − z) · Δ
/// </code>
/// Large tensors are split over the cores; the result does not depend on the split.
/// </summary>
public static class FakeQuant
{
    /// <summary>x̂ for per-tensor parameters (<c>torch.fake_quantize_per_tensor_affine</c>).</summary>
    public static Tensor Forward(Tensor x, QParams q)
    {
        var y = Tensor.Empty(x.Shape);
        float scale = q.Scale; int zp = q.ZeroPoint, qmax = q.QMax;
        float[] xb = x.Buffer, yb = y.Buffer; int xo = x.Offset, yo = y.Offset;
        Nanoq.Kernels.WorkSplit.For(x.Size, 1, (s, e) => FakeQuantKernels.Forward(xb.AsSpan(xo + s, e - s), scale, zp, qmax, yb.AsSpan(yo + s, e - s)));
        return y;
    }

    /// <summary>∂L/∂x = ∂L/∂x̂ · [0 ≤ round(x/Δ) + z ≤ 2^k − 1] (eq. 8, PyTorch's mask).</summary>
    public static Tensor Backward(Tensor x, Tensor dy, QParams q)
    {
        ShapeCheck.Same(x, dy, nameof(FakeQuant) + "." + nameof(Backward));
        var dx = Tensor.Empty(x.Shape);
        float scale = q.Scale; int zp = q.ZeroPoint, qmax = q.QMax;
        float[] xb = x.Buffer, gb = dy.Buffer, db = dx.Buffer; int xo = x.Offset, go = dy.Offset, dO = dx.Offset;
        Nanoq.Kernels.WorkSplit.For(x.Size, 1, (s, e) => FakeQuantKernels.Backward(xb.AsSpan(xo + s, e - s), gb.AsSpan(go + s, e - s), scale, zp, qmax, db.AsSpan(dO + s, e - s)));
        return dx;
    }

    /// <summary>x̂ for per-channel parameters along <see cref="ChannelQParams.Axis"/> (<c>torch.fake_quantize_per_channel_affine</c>).</summary>
    public static Tensor Forward(Tensor x, ChannelQParams q)
    {
        var (outer, inner) = View(x, q, nameof(Forward));
        var y = Tensor.Empty(x.Shape);
        PerChannel(x, outer, q, inner, (xs, c, ys) => FakeQuantKernels.Forward(xs, q.Scales[c], q.ZeroPoints[c], q.QMax, ys), y, null);
        return y;
    }

    /// <summary>Per-channel STE backward: channel c's mask uses (Δ_c, z_c).</summary>
    public static Tensor Backward(Tensor x, Tensor dy, ChannelQParams q)
    {
        ShapeCheck.Same(x, dy, nameof(FakeQuant) + "." + nameof(Backward));
        var (outer, inner) = View(x, q, nameof(Backward));
        var dx = Tensor.Empty(x.Shape);
        float[] gb = dy.Buffer; int go = dy.Offset;
        PerChannel(x, outer, q, inner, null, dx, (xs, at, c, ds) =>
            FakeQuantKernels.Backward(xs, gb.AsSpan(go + at, xs.Length), q.Scales[c], q.ZeroPoints[c], q.QMax, ds));
        return dx;
    }

    /// <summary>The integer codes of <see cref="Forward(Tensor, QParams)"/>, one per byte.</summary>
    public static byte[] Codes(Tensor x, QParams q)
    {
        var codes = new byte[x.Size];
        FakeQuantKernels.Quantize(x.Span, q.Scale, q.ZeroPoint, q.QMax, codes);
        return codes;
    }

    private static (int Outer, int Inner) View(Tensor x, ChannelQParams q, string op)
    {
        if (q.Axis >= x.Rank)
            throw new ArgumentException($"FakeQuant.{op}: channel axis {q.Axis} is outside a tensor of shape {x.Shape}.");
        if (x.Shape[q.Axis] != q.Channels)
            throw new ArgumentException($"FakeQuant.{op}: {q.Channels} channel parameters for axis {q.Axis} of shape {x.Shape}.");
        return (x.Shape.SizeOf(0, q.Axis), x.Shape.SizeOf(q.Axis + 1, x.Rank));
    }

    private delegate void RowMap(ReadOnlySpan<float> x, int channel, Span<float> y);
    private delegate void RowMapAt(ReadOnlySpan<float> x, int at, int channel, Span<float> y);

    // One row = the `inner` contiguous elements of one (outer, channel) pair; rows run in parallel when the tensor is large.
    private static void PerChannel(Tensor x, int outer, ChannelQParams q, int inner, RowMap? map, Tensor y, RowMapAt? mapAt)
    {
        int rows = outer * q.Channels;
        float[] xb = x.Buffer, yb = y.Buffer; int xo = x.Offset, yo = y.Offset, channels = q.Channels;
        void Row(int r)
        {
            int at = r * inner, c = r % channels;
            var xs = new ReadOnlySpan<float>(xb, xo + at, inner);
            var ys = new Span<float>(yb, yo + at, inner);
            if (map is not null) map(xs, c, ys);
            else mapAt!(xs, at, c, ys);
        }
        Nanoq.Kernels.WorkSplit.For(rows, inner, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) Row(r);
        });
    }
}
