namespace Nanoq.Coco.Data;

/// <summary>
/// Contiguous class labels 0..K−1 for a detector, from COCO category ids in ascending order (COCO's ids have gaps),
/// and back for writing results. A model that fixes its own mapping (one imported from torchvision, whose label l is
/// category id l) gives the ids in label order instead (<see cref="CategoryMap(IReadOnlyList{long}, IReadOnlyList{string})"/>).
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

    /// <summary>Label i is category <paramref name="ids"/>[i], named <paramref name="names"/>[i]; the ids must be distinct.</summary>
    public CategoryMap(IReadOnlyList<long> ids, IReadOnlyList<string> names)
    {
        if (ids.Count != names.Count) throw new ArgumentException($"{ids.Count} category ids but {names.Count} names.");
        _ids = ids.ToArray();
        _names = names.ToArray();
        _labels = new Dictionary<long, int>(_ids.Length);
        for (int i = 0; i < _ids.Length; i++)
            if (!_labels.TryAdd(_ids[i], i)) throw new ArgumentException($"category id {_ids[i]} appears twice.");
    }

    public int Count => _ids.Length;

    /// <summary>Whether <paramref name="categoryId"/> has a label.</summary>
    public bool Contains(long categoryId) => _labels.ContainsKey(categoryId);

    /// <summary>The category ids in label order.</summary>
    public IReadOnlyList<long> Ids => _ids;

    public int Label(long categoryId) => _labels.TryGetValue(categoryId, out int l)
        ? l : throw new KeyNotFoundException($"no category with id {categoryId}");

    public long CategoryId(int label) => (uint)label < (uint)_ids.Length
        ? _ids[label] : throw new ArgumentOutOfRangeException(nameof(label), $"label {label} is not in 0..{_ids.Length - 1}");

    public string Name(int label) => _names[label];

    public IReadOnlyList<string> Names => _names;
}
