namespace Nanoq.Coco.Data;

/// <summary>
/// Contiguous class labels 0..K−1 for a detector, from COCO category ids in ascending order (COCO's ids have gaps),
/// and back for writing results.
/// </summary>
public sealed class CategoryMap
{
    private readonly long[] _ids;
    private readonly Dictionary<long, int> _labels;
    private readonly string[] _names;

    public CategoryMap(IEnumerable<CocoCategory> categories)
    {
        var sorted = categories.OrderBy(c => c.Id).ToArray();
        _ids = sorted.Select(c => c.Id).ToArray();
        _names = sorted.Select(c => c.Name).ToArray();
        _labels = new Dictionary<long, int>(_ids.Length);
        for (int i = 0; i < _ids.Length; i++) _labels[_ids[i]] = i;
    }

    public int Count => _ids.Length;

    public int Label(long categoryId) => _labels.TryGetValue(categoryId, out int l)
        ? l : throw new KeyNotFoundException($"no category with id {categoryId}");

    public long CategoryId(int label) => (uint)label < (uint)_ids.Length
        ? _ids[label] : throw new ArgumentOutOfRangeException(nameof(label), $"label {label} is not in 0..{_ids.Length - 1}");

    public string Name(int label) => _names[label];

    public IReadOnlyList<string> Names => _names;
}
