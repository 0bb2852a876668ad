namespace Nanoq.Cli.Reproduce;

/// <summary>The bundled data set a plan trains and evaluates on: name, split sizes, image size, seed (part of every cell's id).</summary>
public sealed record DataSpec(string Name, int TrainImages, int ValImages, int ImageSize, ulong Seed)
{
    public static DataSpec For(Budget b) => new("shapes", b.TrainImages, b.ValImages, b.ImageSize, 0);

    public override string ToString() => $"{Name} ({TrainImages} train / {ValImages} val images, {ImageSize} px)";
}
