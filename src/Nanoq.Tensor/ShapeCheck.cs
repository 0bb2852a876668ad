namespace Nanoq;

/// <summary>Argument checks whose messages name both shapes, so a mismatch is found from the message alone.</summary>
public static class ShapeCheck
{
    public static void Same(Tensor a, Tensor b, string op)
    {
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} must be equal.");
    }

    public static void SameSize(Tensor a, Tensor b, string op)
    {
        if (a.Size != b.Size)
            throw new ArgumentException($"{op}: shapes {a.Shape} and {b.Shape} must have the same number of elements.");
    }

    public static void Rank(Tensor a, int rank, string op, string name = "input")
    {
        if (a.Rank != rank)
            throw new ArgumentException($"{op}: {name} must have rank {rank}, got shape {a.Shape}.");
    }
}
