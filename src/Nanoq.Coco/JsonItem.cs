namespace Nanoq.Coco;

/// <summary>
/// Where a json object sits: element <see cref="Index"/> of the top-level list <see cref="List"/>
/// (<c>annotations[17]</c>), or the root (<see cref="Root"/>). The path text is built only when an error needs it,
/// so walking a 500k-element results file allocates no strings.
/// </summary>
internal readonly record struct JsonItem(string List, int Index)
{
    public static JsonItem Root => new("", -1);

    public string Path => Index < 0 ? List : $"{List}[{Index}]";

    /// <summary>The path of a field of this object: <c>annotations[17].bbox</c>.</summary>
    public string Field(string name) => Index < 0 && List.Length == 0 ? name : $"{Path}.{name}";
}
