using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Quant.Integer;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; iSCSI, ext4, Snappy framing), the checksum of NQIM files:
/// the SSE4.2 <c>crc32</c> instruction 8 bytes at a time where available, a table otherwise — the same value either
/// way. Check value: CRC-32C("123456789") = 0xE3069283.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            t[i] = c;
        }
        return t;
    }

    /// <summary>CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>Continues a running (pre-inverted) CRC state over <paramref name="data"/>.</summary>
    private static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        int i = 0;
        if (Sse42.X64.IsSupported)
        {
            ulong s = state;
            for (; i + 8 <= data.Length; i += 8) s = Sse42.X64.Crc32(s, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)));
            state = (uint)s;
        }
        for (; i < data.Length; i++) state = Table[(state ^ data[i]) & 0xFF] ^ (state >> 8);
        return state;
    }

    /// <summary>The table path only (tests check it against the hardware path).</summary>
    public static uint ComputePortable(ReadOnlySpan<byte> data)
    {
        uint state = ~0u;
        foreach (byte b in data) state = Table[(state ^ b) & 0xFF] ^ (state >> 8);
        return ~state;
    }
}
