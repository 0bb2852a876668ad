using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>Random integer conv layers: codes on a k-bit grid, per-channel zero points, bias and multipliers.</summary>
internal sealed class IntConvData
{
    public required Conv2dGeometry G;
    public required byte[] X, W;
    public required int[] Zw, Bias;
    public required int Zx, InputBits, WeightBits;
    public required Requantization Rq;

    public static IntConvData Random(Rng rng, in Conv2dGeometry g, int inputBits, int weightBits, bool perChannel = true,
        bool narrowWeights = false)
    {
        int xmax = (1 << inputBits) - 1, wmax = (1 << weightBits) - 1;
        var x = new byte[g.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = (byte)rng.NextInt(xmax + 1);
        var zw = new int[g.OutChannels];
        for (int c = 0; c < zw.Length; c++) zw[c] = perChannel ? rng.NextInt(wmax + 1) : zw.Length > 0 && c > 0 ? zw[0] : rng.NextInt(wmax + 1);
        var w = new byte[g.WeightLength];
        int k = g.PatchSize;
        for (int o = 0; o < g.OutChannels; o++)
            for (int i = 0; i < k; i++)
            {
                // narrowWeights keeps |w − z_w| ≤ 127 at 8 bits (the int8 paths).
                int lo = narrowWeights ? Math.Max(0, zw[o] - 127) : 0, hi = narrowWeights ? Math.Min(wmax, zw[o] + 127) : wmax;
                w[o * k + i] = (byte)rng.NextInt(lo, hi + 1);
            }
        var bias = new int[g.OutChannels];
        for (int c = 0; c < bias.Length; c++) bias[c] = rng.NextInt(-20000, 20001);
        var m0 = new int[g.OutChannels];
        var shift = new int[g.OutChannels];
        for (int c = 0; c < m0.Length; c++)
        {
            m0[c] = (1 << 30) + rng.NextInt(1 << 30);
            shift[c] = -rng.NextInt(4, 12);
        }
        int zy = rng.NextInt(xmax + 1);
        var rq = new Requantization(m0, shift, zy, rng.Bernoulli(0.5) ? zy : 0, xmax);
        return new IntConvData
        {
            G = g, X = x, W = w, Zw = zw, Bias = bias, Zx = rng.NextInt(xmax + 1), InputBits = inputBits, WeightBits = weightBits, Rq = rq,
        };
    }

    public IntConv2dWeights Pack(IntConvPath path) =>
        IntConv2dWeights.Pack(G.OutChannels, G.InChannels, G.KernelH, G.KernelW, G.Groups, W, Zw, WeightBits, InputBits, path);

    public int[] ReferenceAcc()
    {
        var acc = new int[G.OutputLength];
        IntConv2dReference.Accumulators(G, X, Zx, W, Zw, Bias, acc);
        return acc;
    }

    public byte[] ReferenceCodes()
    {
        var y = new byte[G.OutputLength];
        IntConv2dReference.Forward(G, X, Zx, W, Zw, Bias, Rq, y);
        return y;
    }
}
