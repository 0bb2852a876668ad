namespace Nanoq.Kernels.Integer;

/// <summary>
/// Which inner product an integer conv runs. Every path computes the same int32 accumulators exactly (tests compare
/// them bit for bit); they differ in speed and in when they are valid. <see cref="Auto"/> picks at packing time from
/// the weights' centered range max|w_q − z_w| and the input's largest code 2^k_x − 1.
/// </summary>
public enum IntConvPath
{
    /// <summary>Choose: <see cref="Depthwise"/> for depthwise geometries, else <see cref="Madd16"/> when it may sum at
    /// least two steps in 16 bits, else <see cref="Vnni"/> when the CPU has AVX-VNNI and the weights fit int8, else
    /// <see cref="Int16"/>; <see cref="Reference"/> without a vector level (<see cref="Simd.Level"/>).
    /// Every path but <see cref="Vnni"/> has a 512-bit (AVX-512BW) and a 256-bit (AVX2) form with the same layout.</summary>
    Auto = 0,

    /// <summary>The naive scalar loop over codes (<see cref="IntConv2dReference"/>): the ground truth and the fallback.</summary>
    Reference,

    /// <summary>
    /// Centered weights and input codes widened to int16, <c>vpmaddwd</c> (<c>Avx512BW</c> / <c>Avx2.MultiplyAddAdjacent</c>):
    /// 32 (16 on AVX2) multiply-adds an instruction into int32, exact for every k ≤ 8 (|w_q − z_w| ≤ 255 need not fit int8).
    /// </summary>
    Int16,

    /// <summary>
    /// u8 input codes × s8 centered weights with <c>vpmaddubsw</c>: 64 (32 on AVX2) multiply-adds an instruction, pairs summed into
    /// int16 lanes which are summed again for S steps before widening to int32 with <c>vpmaddwd</c> by ones. Exact when
    /// max|w_q − z_w| ≤ 127 and S = ⌊32767 / (2 · x_max · w_max)⌋ ≥ 1: each step adds one saturation-free pair sum of at
    /// most 2·x_max·w_max to a lane, so S steps never leave int16. 4-bit codes: x_max = w_max = 15, S = ⌊32767/450⌋ = 72.
    /// </summary>
    Madd16,

    /// <summary>u8 input codes × s8 centered weights with AVX-VNNI <c>vpdpbusd</c> (256-bit, 32 multiply-adds an
    /// instruction straight into int32); needs <c>AvxVnni.IsSupported</c> (and AVX-512, whose 32 registers the
    /// micro-kernel needs) and max|w_q − z_w| ≤ 127.</summary>
    Vnni,

    /// <summary>The <see cref="Vnni"/> kernel with <c>vpdpbusd</c> emulated by <c>vpmaddwd</c>: the same data layout and
    /// loop, for testing that kernel on CPUs without AVX-VNNI. Slow; never chosen by <see cref="Auto"/>.</summary>
    VnniEmulated,

    /// <summary>Groups = C_in = C_out: the direct depthwise kernel (any k ≤ 8), not a GEMM.</summary>
    Depthwise,
}
