namespace Nanoq.Detection;

/// <summary>
/// Anchors over the levels of a feature pyramid: torchvision's <c>AnchorGenerator</c> (0.14), value for value.
/// Boxes follow the contract of <see cref="Boxes"/>.
///
/// <para><b>Cell (base) anchors</b> of a level, one per (ratio, size), ratio-major, all float32:
/// <code>
///   h_ratio = sqrt(ratio),  w_ratio = 1 / h_ratio          (ratio = height / width)
///   w = w_ratio · size,  h = h_ratio · size
///   base = round((−w, −h, w, h) / 2)                        (round half to even, as torch.round)
/// </code>
/// The rounding puts every corner on the integer pixel grid (torchvision's choice; it makes a 0.5-ratio anchor
/// of size 32 45×22 rather than 45.25×22.63).</para>
///
/// <para><b>Grid anchors</b> of a level with a gh × gw feature map and stride (sh, sw): the cell anchors shifted
/// by (x·sw, y·sh, x·sw, y·sh) for y in 0..gh−1, x in 0..gw−1 — shifts start at 0, not at the cell center.
/// Order: row-major over locations (y outer, x inner), all cell anchors of a location together, levels
/// concatenated in order. This is the order a head's [N, A·4, H, W] output has after permuting to
/// [N, H, W, A, 4] and flattening, which is how RetinaNet's heads are read.</para>
///
/// <para>The stride of a level is image_size // grid_size per axis (integer division), as torchvision's forward
/// infers it; <see cref="GridAnchors"/> takes explicit strides too.</para>
/// </summary>
public sealed class AnchorGenerator
{
    private readonly float[][] _sizes;
    private readonly float[][] _aspectRatios;
    private readonly float[][] _cellAnchors;

    /// <param name="sizes">Per level, the anchor sizes (√area in pixels), e.g. {32, 40, 50} for P3.</param>
    /// <param name="aspectRatios">Per level, the ratios height / width, e.g. {0.5, 1, 2}.</param>
    public AnchorGenerator(float[][] sizes, float[][] aspectRatios)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(aspectRatios);
        if (sizes.Length == 0 || sizes.Length != aspectRatios.Length)
            throw new ArgumentException($"AnchorGenerator: {sizes.Length} levels of sizes but {aspectRatios.Length} of aspect ratios; " +
                                        "there must be one entry of each per feature map.");
        _sizes = new float[sizes.Length][];
        _aspectRatios = new float[sizes.Length][];
        _cellAnchors = new float[sizes.Length][];
        for (int l = 0; l < sizes.Length; l++)
        {
            if (sizes[l] is not { Length: > 0 } s || aspectRatios[l] is not { Length: > 0 } r)
                throw new ArgumentException($"AnchorGenerator: level {l} needs at least one size and one aspect ratio.");
            foreach (float v in s)
                if (!(v > 0) || float.IsInfinity(v)) throw new ArgumentException($"AnchorGenerator: size {v} on level {l} is not positive and finite.");
            foreach (float v in r)
                if (!(v > 0) || float.IsInfinity(v)) throw new ArgumentException($"AnchorGenerator: aspect ratio {v} on level {l} is not positive and finite.");
            _sizes[l] = (float[])s.Clone();
            _aspectRatios[l] = (float[])r.Clone();
            _cellAnchors[l] = GenerateAnchors(_sizes[l], _aspectRatios[l]);
        }
    }

    /// <summary>
    /// torchvision's RetinaNet configuration (retinanet.py, _default_anchorgen): level l has base size
    /// x = smallestSize · 2^l and sizes (x, int(x·2^(1/3)), int(x·2^(2/3))) — truncated to integers as the Python
    /// does — with ratios (0.5, 1, 2): 9 anchors a location. The defaults give P3–P7 with sizes 32..512 (an
    /// 800-pixel input); a smaller smallestSize scales the pyramid down for small CPU-sized inputs (e.g. 8 for
    /// 128-pixel images).
    /// </summary>
    public static AnchorGenerator RetinaNet(int smallestSize = 32, int numLevels = 5, int scalesPerOctave = 3)
    {
        if (smallestSize <= 0 || numLevels <= 0 || scalesPerOctave <= 0)
            throw new ArgumentOutOfRangeException(nameof(smallestSize), "RetinaNet anchors: sizes, levels and scales must be positive.");
        var sizes = new float[numLevels][];
        var ratios = new float[numLevels][];
        for (int l = 0; l < numLevels; l++)
        {
            long x = (long)smallestSize << l;
            sizes[l] = new float[scalesPerOctave];
            for (int k = 0; k < scalesPerOctave; k++)
                // Python: int(x * 2 ** (k / S)) in double precision, truncated; k = 0 is x itself.
                sizes[l][k] = k == 0 ? x : (long)(x * Math.Pow(2.0, (double)k / scalesPerOctave));
            ratios[l] = [0.5f, 1f, 2f];
        }
        return new AnchorGenerator(sizes, ratios);
    }

    public int NumLevels => _sizes.Length;

    /// <summary>The sizes of a level (a copy).</summary>
    public float[] Sizes(int level) => (float[])_sizes[level].Clone();

    /// <summary>The aspect ratios of a level (a copy).</summary>
    public float[] AspectRatios(int level) => (float[])_aspectRatios[level].Clone();

    /// <summary>num_anchors_per_location: |sizes| · |ratios| of a level.</summary>
    public int NumAnchorsPerLocation(int level) => _sizes[level].Length * _aspectRatios[level].Length;

    /// <summary>The [A, 4] zero-centered cell anchors of a level (a copy); see the class comment for the formula.</summary>
    public float[] CellAnchors(int level) => (float[])_cellAnchors[level].Clone();

    /// <summary>generate_anchors: ratio-major (ratio outer, size inner) rounded base anchors, in float32 as torch.</summary>
    private static float[] GenerateAnchors(float[] scales, float[] aspectRatios)
    {
        var a = new float[4 * scales.Length * aspectRatios.Length];
        int k = 0;
        foreach (float ratio in aspectRatios)
        {
            float hRatio = MathF.Sqrt(ratio);
            float wRatio = 1f / hRatio;
            foreach (float scale in scales)
            {
                float ws = wRatio * scale, hs = hRatio * scale;
                // stack([-ws, -hs, ws, hs]) / 2, then torch.round (half to even = MathF.Round's default).
                a[k++] = MathF.Round(-ws / 2);
                a[k++] = MathF.Round(-hs / 2);
                a[k++] = MathF.Round(ws / 2);
                a[k++] = MathF.Round(hs / 2);
            }
        }
        return a;
    }

    /// <summary>The number of anchors over levels with these grid sizes: Σ gh · gw · A.</summary>
    public int NumAnchors(ReadOnlySpan<(int Height, int Width)> gridSizes)
    {
        CheckLevels(gridSizes.Length);
        long total = 0;
        for (int l = 0; l < gridSizes.Length; l++)
            total += (long)gridSizes[l].Height * gridSizes[l].Width * NumAnchorsPerLocation(l);
        if (total > int.MaxValue / 4) throw new ArgumentException($"AnchorGenerator: {total} anchors is too many.");
        return (int)total;
    }

    /// <summary>
    /// grid_anchors of one level: writes gh · gw · A anchors (4 floats each) to <paramref name="output"/>:
    /// anchor (y, x, a) = cell[a] + (x·strideW, y·strideH, x·strideW, y·strideH).
    /// </summary>
    public void GridAnchors(int level, int gridHeight, int gridWidth, int strideHeight, int strideWidth, Span<float> output)
    {
        if (gridHeight < 0 || gridWidth < 0 || strideHeight < 0 || strideWidth < 0)
            throw new ArgumentOutOfRangeException(nameof(gridHeight), "GridAnchors: grid sizes and strides must be non-negative.");
        var cell = _cellAnchors[level];
        int count = gridHeight * gridWidth * cell.Length;
        if (output.Length != count)
            throw new ArgumentException($"GridAnchors: level {level} on a {gridHeight}x{gridWidth} grid has {count / 4} anchors " +
                                        $"({count} floats), output has {output.Length}.");
        int k = 0;
        for (int y = 0; y < gridHeight; y++)
        {
            // torchvision's shifts are int32 (arange · stride) added to float32 base anchors: exact below 2^24.
            float sy = y * strideHeight;
            for (int x = 0; x < gridWidth; x++)
            {
                float sx = x * strideWidth;
                for (int c = 0; c < cell.Length; c += 4)
                {
                    output[k++] = sx + cell[c];
                    output[k++] = sy + cell[c + 1];
                    output[k++] = sx + cell[c + 2];
                    output[k++] = sy + cell[c + 3];
                }
            }
        }
    }

    /// <summary>
    /// forward: all anchors of an image of <paramref name="imageHeight"/> × <paramref name="imageWidth"/> (the
    /// padded batch size, as torchvision takes it from the batched tensor) over feature maps of the given grid
    /// sizes, one per level; level strides are image // grid per axis. Writes <see cref="NumAnchors"/> · 4 floats.
    /// </summary>
    public void Generate(int imageHeight, int imageWidth, ReadOnlySpan<(int Height, int Width)> gridSizes, Span<float> output)
    {
        int total = NumAnchors(gridSizes);
        if (output.Length != 4 * total)
            throw new ArgumentException($"Generate: {total} anchors need {4 * total} floats, output has {output.Length}.");
        int offset = 0;
        for (int l = 0; l < gridSizes.Length; l++)
        {
            var (gh, gw) = gridSizes[l];
            if (gh <= 0 || gw <= 0) throw new ArgumentException($"Generate: level {l} has an empty {gh}x{gw} feature map.");
            int n = 4 * gh * gw * NumAnchorsPerLocation(l);
            GridAnchors(l, gh, gw, imageHeight / gh, imageWidth / gw, output.Slice(offset, n));
            offset += n;
        }
    }

    /// <summary>forward as a pooled [ΣA, 4] tensor; see the span overload.</summary>
    public Tensor Generate(int imageHeight, int imageWidth, ReadOnlySpan<(int Height, int Width)> gridSizes)
    {
        var t = Tensor.Empty(NumAnchors(gridSizes), 4);
        Generate(imageHeight, imageWidth, gridSizes, t.Span);
        return t;
    }

    private void CheckLevels(int count)
    {
        if (count != _sizes.Length)
            throw new ArgumentException($"AnchorGenerator has {_sizes.Length} levels but {count} feature maps were given; " +
                                        "there must be one set of sizes / aspect ratios per feature map.");
    }
}
