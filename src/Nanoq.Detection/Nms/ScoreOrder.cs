using System.Runtime.CompilerServices;

namespace Nanoq.Detection;

/// <summary>
/// Packs (score, index) into one ulong whose ascending order is "score descending, then index ascending" — the
/// order of torch's stable descending sort, which torchvision's CPU nms kernel uses
/// (<c>scores.sort(stable=true, descending=true)</c>). Sorting plain ulongs is much faster than sorting with a
/// comparison delegate, and the keys are unique, so an unstable sort of keys is a stable sort of scores.
///
/// Like torch's sort, every NaN counts as larger than +∞ (so NaN scores come first), and −0 equals +0.
/// </summary>
internal static class ScoreOrder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Key(float score, int index)
    {
        uint desc;
        if (float.IsNaN(score)) desc = 0;
        else
        {
            // −0 → +0, then the usual order-preserving map float → uint (flip all bits of negatives, set the
            // sign bit of positives); complementing it makes larger scores smaller keys.
            uint bits = BitConverter.SingleToUInt32Bits(score == 0f ? 0f : score);
            uint asc = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
            desc = ~asc;
        }
        return ((ulong)desc << 32) | (uint)index;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(ulong key) => (int)(uint)key;
}
