namespace Nanoq.Coco.Tests.Evaluation;

/// <summary>Small random COCO ground truths and detections for property tests, all drawn from one seed.</summary>
internal static class RandomCoco
{
    /// <summary>
    /// 1–6 images, 1–4 categories (non-contiguous ids), 0–8 objects an image of sizes from 4 to 200 px, some crowds,
    /// an <c>area</c> field that is usually w×h and sometimes smaller (as for masks).
    /// </summary>
    public static CocoDataset GroundTruth(Rng rng)
    {
        int numImages = rng.NextInt(1, 6 + 1), numCategories = rng.NextInt(1, 4 + 1);
        var categories = Enumerable.Range(0, numCategories).Select(k => new CocoCategory(3 * k + 2, $"c{k}")).ToList();
        var images = Enumerable.Range(0, numImages).Select(i => new CocoImage(10 + 7 * i, 320, 320, $"{i}.png")).ToList();
        var anns = new List<CocoAnnotation>();
        foreach (var im in images)
        {
            int n = rng.NextInt(0, 8 + 1);
            for (int j = 0; j < n; j++)
            {
                var box = RandomBox(rng);
                double area = rng.Bernoulli(0.8) ? box.Area : box.Area * rng.Uniform(0.3, 1);
                anns.Add(new CocoAnnotation(anns.Count + 1, im.Id, categories[rng.NextInt(numCategories)].Id, box, area, rng.Bernoulli(0.1)));
            }
        }
        return new CocoDataset(images, anns, categories);
    }

    public static CocoBox RandomBox(Rng rng)
    {
        double w = Math.Exp(rng.Uniform(Math.Log(4), Math.Log(200))), h = w * Math.Exp(rng.Uniform(-0.7, 0.7));
        return new CocoBox(Math.Round(rng.Uniform(0, 300), 2), Math.Round(rng.Uniform(0, 300), 2), Math.Round(w, 2) + 0.5, Math.Round(h, 2) + 0.5);
    }

    public static CocoBox Jitter(Rng rng, CocoBox b, double amount) =>
        new(b.X + rng.Uniform(-amount, amount) * b.Width, b.Y + rng.Uniform(-amount, amount) * b.Height,
            b.Width * (1 + rng.Uniform(-amount, amount)), b.Height * (1 + rng.Uniform(-amount, amount)));

    /// <summary>
    /// Detections: an exact copy of every non-crowd ground truth, jittered copies, and random false positives in random
    /// images and categories; scores distinct unless <paramref name="tieDecimals"/> rounds them.
    /// </summary>
    public static List<CocoResult> Detections(Rng rng, CocoDataset gt, int? tieDecimals = null)
    {
        var dts = new List<CocoResult>();
        foreach (var a in gt.Annotations)
        {
            if (!a.IsCrowd) dts.Add(new CocoResult(a.ImageId, a.CategoryId, a.Bbox, Score(rng, tieDecimals)));
            if (rng.Bernoulli(0.5)) dts.Add(new CocoResult(a.ImageId, a.CategoryId, Jitter(rng, a.Bbox, 0.2), Score(rng, tieDecimals)));
        }
        int extra = rng.NextInt(0, 10 + 1);
        for (int i = 0; i < extra; i++)
        {
            var im = gt.Images[rng.NextInt(gt.Images.Count)];
            var c = gt.Categories[rng.NextInt(gt.Categories.Count)];
            dts.Add(new CocoResult(im.Id, c.Id, RandomBox(rng), Score(rng, tieDecimals)));
        }
        rng.Shuffle(dts);
        return dts;
    }

    private static double Score(Rng rng, int? decimals) =>
        decimals is { } d ? Math.Round(rng.Uniform(0.01, 1), d) : rng.Uniform(0.01, 1);

    public static void Shuffle<T>(this Rng rng, List<T> list)
    {
        var a = list.ToArray();
        rng.Shuffle(a);
        list.Clear();
        list.AddRange(a);
    }
}
