namespace Nanoq.Coco.Benchmarks;

/// <summary>
/// A COCO-val-like evaluation load, deterministic from a seed: 80 categories (COCO's non-contiguous ids 1..90),
/// ~7 objects an image of sizes spanning small to large, ~1 % crowds, and exactly 100 detections an image:
/// a jittered hit for most objects, the rest false positives, scores uniform.
/// </summary>
public static class SyntheticEvalData
{
    public static (CocoDataset Gt, List<CocoResult> Dts) Make(int images, int detectionsPerImage, ulong seed)
    {
        var rng = new Rng(seed);
        var categories = Enumerable.Range(1, 90).Where(id => id % 9 != 0 || id > 81).Take(80)
            .Select(id => new CocoCategory(id, $"c{id}")).ToList();
        var imageList = new List<CocoImage>(images);
        var anns = new List<CocoAnnotation>();
        var dts = new List<CocoResult>(images * detectionsPerImage);
        for (int i = 0; i < images; i++)
        {
            long imageId = 1000 + 3L * i;
            imageList.Add(new CocoImage(imageId, 640, 480, $"{imageId}.jpg"));
            int objects = rng.NextInt(1, 14 + 1);
            int firstAnn = anns.Count;
            for (int j = 0; j < objects; j++)
            {
                var box = Box(rng);
                anns.Add(new CocoAnnotation(anns.Count + 1, imageId, categories[rng.NextInt(categories.Count)].Id, box,
                    box.Area * rng.Uniform(0.5, 1), rng.Bernoulli(0.01)));
            }
            for (int d = 0; d < detectionsPerImage; d++)
            {
                if (d < objects && rng.Bernoulli(0.8))
                {
                    var a = anns[firstAnn + d];
                    var b = a.Bbox;
                    var jittered = new CocoBox(b.X + rng.Uniform(-0.1, 0.1) * b.Width, b.Y + rng.Uniform(-0.1, 0.1) * b.Height,
                        b.Width * rng.Uniform(0.85, 1.15), b.Height * rng.Uniform(0.85, 1.15));
                    dts.Add(new CocoResult(imageId, a.CategoryId, jittered, rng.Uniform(0.3, 1)));
                }
                else
                {
                    dts.Add(new CocoResult(imageId, categories[rng.NextInt(categories.Count)].Id, Box(rng), rng.Uniform(0, 0.6)));
                }
            }
        }
        return (new CocoDataset(imageList, anns, categories), dts);
    }

    private static CocoBox Box(Rng rng)
    {
        double w = Math.Exp(rng.Uniform(Math.Log(6), Math.Log(400))), h = w * Math.Exp(rng.Uniform(-0.8, 0.8));
        return new CocoBox(rng.Uniform(0, 600), rng.Uniform(0, 440), w, h);
    }
}
