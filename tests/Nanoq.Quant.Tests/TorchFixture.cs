using System.Globalization;
using System.Text.Json;

namespace Nanoq.Tests;

/// <summary>
/// Reads the PyTorch fixtures of tools/gen_quant_fixtures.py (committed under data/torch). Floats are stored as the
/// hex of their binary32 bit patterns, so comparisons are bit for bit, signed zeros included.
/// </summary>
internal static class TorchFixture
{
    public static JsonElement Cases(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "torch", name))).RootElement.GetProperty("cases");

    public static float Hex(string s) => BitConverter.UInt32BitsToSingle(uint.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    public static float[] Floats(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(v => Hex(v.GetString()!)).ToArray();

    public static float Float(this JsonElement e, string field) => Hex(e.GetProperty(field).GetString()!);

    public static int[] Ints(this JsonElement e, string field) => e.GetProperty(field).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static int Int(this JsonElement e, string field) => e.GetProperty(field).GetInt32();

    /// <summary>Asserts identical bit patterns; the message names the first differing element and its input.</summary>
    public static void AssertBitwise(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, ReadOnlySpan<float> input = default)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            uint e = BitConverter.SingleToUInt32Bits(expected[i]), a = BitConverter.SingleToUInt32Bits(actual[i]);
            if (e != a)
            {
                string x = input.IsEmpty ? "" : $" for x = {input[i].ToString("G9", CultureInfo.InvariantCulture)} ({BitConverter.SingleToUInt32Bits(input[i]):x8})";
                Assert.Fail($"{what}: element {i}{x}: PyTorch {expected[i].ToString("G9", CultureInfo.InvariantCulture)} ({e:x8}), Nanoq {actual[i].ToString("G9", CultureInfo.InvariantCulture)} ({a:x8}).");
            }
        }
    }
}
