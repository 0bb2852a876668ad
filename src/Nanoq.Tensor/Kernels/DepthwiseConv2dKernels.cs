namespace Nanoq.Kernels;

/// <summary>Placeholder while the direct kernels are written.</summary>
public static unsafe class DepthwiseConv2dKernels
{
    internal static void ForwardCore(in Conv2dGeometry g, float* x, float* w, float* bias, float* y) => Conv2dKernels.ForwardCore(g, x, w, bias, y, 0f);
    internal static void BackwardInputCore(in Conv2dGeometry g, float* dy, float* w, float* dx, bool accumulate) => Conv2dKernels.BackwardInputCore(g, dy, w, dx, accumulate);
    internal static void BackwardWeightCore(in Conv2dGeometry g, float* x, float* dy, float* dw, bool accumulate) => Conv2dKernels.BackwardWeightCore(g, x, dy, dw, accumulate);
}
