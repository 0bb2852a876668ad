using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Data;

/// <summary>
/// A COCO data set on disk: an images folder plus an instances json whose <c>file_name</c>s are relative to it.
/// The bundled data sets use the layout <c>DIR/images/*.png</c> + <c>DIR/instances.json</c> (<see cref="OpenLayout"/>);
/// a user's own COCO (e.g. val2017/ + annotations/instances_val2017.json) opens with <see cref="Open"/>.
/// Images are in the json's order.
/// </summary>
public sealed class CocoFolder
{
    public CocoDataset Dataset { get; }
    public string ImagesDirectory { get; }
    public CategoryMap Categories { get; }

    public CocoFolder(CocoDataset dataset, string imagesDirectory)
    {
        Dataset = dataset;
        ImagesDirectory = imagesDirectory;
        Categories = new CategoryMap(dataset.Categories);
    }

    private CocoFolder(CocoDataset dataset, string imagesDirectory, CategoryMap categories)
    {
        Dataset = dataset;
        ImagesDirectory = imagesDirectory;
        Categories = categories;
    }

    /// <summary>
    /// The same images and annotations labelled by a model's own <paramref name="categories"/> (a model imported from
    /// torchvision fixes label ↔ category id). Every category the annotations use must have a label; the error names
    /// the first that does not and the file.
    /// </summary>
    public CocoFolder WithCategories(CategoryMap categories, string source)
    {
        foreach (var a in Dataset.Annotations)
            if (!categories.Contains(a.CategoryId))
                throw new CocoFormatException(source, "", $"annotation {a.Id} has category_id {a.CategoryId}, which the model has no class for (its categories: {string.Join(", ", categories.Ids)})");
        return new CocoFolder(Dataset, ImagesDirectory, categories);
    }

    public static CocoFolder Open(string imagesDirectory, string instancesJson)
    {
        if (!Directory.Exists(imagesDirectory))
            throw new CocoFormatException(imagesDirectory, "", "images folder not found");
        return new CocoFolder(CocoDataset.Load(instancesJson), imagesDirectory);
    }

    /// <summary>Opens <c>dir/images</c> + <c>dir/instances.json</c>, the layout <c>nanoq datasets</c> writes.</summary>
    public static CocoFolder OpenLayout(string dir) =>
        Open(Path.Combine(dir, "images"), Path.Combine(dir, "instances.json"));

    public int Count => Dataset.Images.Count;

    public string ImagePath(int index) => Path.Combine(ImagesDirectory, Dataset.Images[index].FileName);

    /// <summary>
    /// Decodes image <paramref name="index"/> and checks that its size is the one the json states. Every failure is a
    /// <see cref="CocoFormatException"/> whose file is the image and whose location names the image id and the json
    /// (<c>images/7.jpg: image id 7 (images[6] of instances.json): corrupt image: …</c>).
    /// </summary>
    public RgbImage LoadImage(int index, ImageLimits? limits = null)
    {
        var entry = Dataset.Images[index];
        string path = ImagePath(index);
        string where = $"image id {entry.Id} (images[{index}] of {Dataset.SourceName})";
        RgbImage image;
        try
        {
            image = ImageCodec.Load(path, limits);
        }
        catch (CocoFormatException ex) when (ex.Location.Length == 0)
        {
            throw new CocoFormatException(path, where, ex.Problem, ex.InnerException ?? ex);
        }
        if (image.Width != entry.Width || image.Height != entry.Height)
            throw new CocoFormatException(path, where,
                $"image is {image.Width}x{image.Height} but {Dataset.SourceName} images[{index}] says {entry.Width}x{entry.Height}");
        return image;
    }

    /// <summary>
    /// <see cref="Load"/> that reports a bad image instead of throwing: null and the error when image
    /// <paramref name="index"/> cannot be read, decoded, or does not match the json. For loops that skip bad images
    /// (<see cref="CocoDataLoader.BadImages"/>); errors of the caller (an index out of range) still throw.
    /// </summary>
    public DetectionSample? TryLoad(int index, TransformOptions options, bool flip, out CocoFormatException? error)
    {
        try
        {
            error = null;
            return Load(index, options, flip);
        }
        catch (CocoFormatException ex)
        {
            error = ex;
            return null;
        }
    }

    /// <summary>Image <paramref name="index"/> through the pipeline of <paramref name="options"/>, flipped if <paramref name="flip"/>.</summary>
    public DetectionSample Load(int index, TransformOptions options, bool flip = false)
    {
        var entry = Dataset.Images[index];
        var (pixels, width, height, map) = Transform(LoadImage(index, options.Limits), options, flip);

        var anns = Dataset.AnnotationsOf(entry.Id);
        var boxes = new XyxyBox[anns.Count];
        var labels = new int[anns.Count];
        var crowd = new bool[anns.Count];
        for (int i = 0; i < anns.Count; i++)
        {
            boxes[i] = map.Map(anns[i].Bbox.ToXyxy());
            labels[i] = Categories.Label(anns[i].CategoryId);
            crowd[i] = anns[i].IsCrowd;
        }
        return new DetectionSample(entry.Id, pixels, width, height,
            boxes, labels, crowd, entry.Width, entry.Height, map, flip);
    }

    /// <summary>
    /// The whole per-image pipeline to normalized CHW floats: <see cref="Prepare"/> then normalize, or for
    /// <see cref="ResizeMode.Torchvision"/> flip, normalize, then resize the floats.
    /// </summary>
    private static (float[] Pixels, int Width, int Height, BoxMap Map) Transform(RgbImage image, TransformOptions options, bool flip)
    {
        if (options.Resize != ResizeMode.Torchvision)
        {
            var (prepared, map) = Prepare(image, options, flip);
            return (options.Normalizer.ToChw(prepared), prepared.Width, prepared.Height, map);
        }
        var flipMap = BoxMap.Identity;
        if (flip) (image, flipMap) = ImageTransforms.FlipHorizontal(image);
        var (w, h, resizeMap) = ResizePlan.Torchvision(image.Width, image.Height, options.ShorterSide, options.MaxLongerSide);
        var planes = options.Normalizer.ToChwAsTorchvision(image);
        if (w != image.Width || h != image.Height)
            planes = Resampler.BilinearChw(planes, 3, image.Height, image.Width, h, w);
        return (planes, w, h, flipMap.Then(resizeMap));
    }

    /// <summary>
    /// The loader's geometric pipeline on bytes: resize per <paramref name="options"/>, then an optional flip; the map
    /// carries original-image boxes. <see cref="ResizeMode.Torchvision"/> resizes floats after normalizing and has no
    /// byte form.
    /// </summary>
    public static (RgbImage Image, BoxMap Map) Prepare(RgbImage image, TransformOptions options, bool flip)
    {
        var map = BoxMap.Identity;
        switch (options.Resize)
        {
            case ResizeMode.Torchvision:
                throw new ArgumentException("ResizeMode.Torchvision resizes normalized floats; use Load or FromImage", nameof(options));
            case ResizeMode.ShorterSide:
                (image, map) = ImageTransforms.ResizeShorterSide(image, options.ShorterSide, options.MaxLongerSide);
                break;
            case ResizeMode.Letterbox:
                (image, map) = ImageTransforms.Letterbox(image, options.LetterboxWidth, options.LetterboxHeight, options.LetterboxPad);
                break;
        }
        if (flip)
        {
            (image, var flipMap) = ImageTransforms.FlipHorizontal(image);
            map = map.Then(flipMap);
        }
        return (image, map);
    }

    /// <summary>An image outside any data set (no annotations) through the pipeline, e.g. for <c>nanoq detect</c>.</summary>
    public static DetectionSample FromImage(RgbImage original, TransformOptions options)
    {
        var (pixels, width, height, map) = Transform(original, options, flip: false);
        return new DetectionSample(0, pixels, width, height, [], [], [],
            original.Width, original.Height, map, false);
    }
}
