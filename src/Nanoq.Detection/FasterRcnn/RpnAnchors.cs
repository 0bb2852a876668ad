namespace Nanoq.Detection;

/// <summary>
/// The RPN's anchors as torchvision's <c>fasterrcnn_resnet50_fpn</c> (<c>_default_anchorgen</c>): one size a level,
/// doubling from level to level (32, 64, 128, 256, 512 on P2–P6 at full scale), ratios 0.5, 1, 2 — three anchors a
/// location. The existing <see cref="AnchorGenerator"/> covers it (checked against torchvision's anchors in the tests);
/// this only names the configuration. A smaller smallestSize scales it down for small CPU-sized inputs.
/// </summary>
public static class RpnAnchors
{
    public static AnchorGenerator FasterRcnn(int smallestSize = 32, int numLevels = 5)
    {
        if (smallestSize <= 0 || numLevels <= 0) throw new ArgumentOutOfRangeException(nameof(smallestSize), "RPN anchors: sizes and levels must be positive.");
        var sizes = new float[numLevels][];
        var ratios = new float[numLevels][];
        for (int l = 0; l < numLevels; l++)
        {
            sizes[l] = [(float)((long)smallestSize << l)];
            ratios[l] = [0.5f, 1f, 2f];
        }
        return new AnchorGenerator(sizes, ratios);
    }
}
