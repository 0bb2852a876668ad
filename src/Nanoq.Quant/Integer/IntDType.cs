namespace Nanoq.Quant.Integer;

/// <summary>Element types of an integer model's tensors (file names in brackets).</summary>
public enum IntDType
{
    /// <summary>Unsigned codes, 1 byte ["u8"]; with <see cref="IntTensor.Bits"/> ≤ 4 stored two per byte ["u4"].</summary>
    U8,
    /// <summary>Signed bytes ["s8"].</summary>
    S8,
    /// <summary>Signed 16-bit ["i16"].</summary>
    I16,
    /// <summary>Signed 32-bit: biases, multipliers, shifts, zero points, clamp bounds ["i32"].</summary>
    I32,
}
