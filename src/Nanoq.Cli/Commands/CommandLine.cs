using Nanoq.Coco;
namespace Nanoq.Cli.Commands;

/// <summary>
/// A tiny <c>--name value</c> / <c>--flag</c> parser for the sub-commands: known options only, each at most once,
/// anything else is a <see cref="UsageException"/> with a one-line message.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public CommandLine(IReadOnlyList<string> args, IReadOnlySet<string> valued, IReadOnlySet<string> flags)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string name = a, value = "";
            bool inline = false;
            int eq = a.IndexOf('=');
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 2)
            {
                name = a[..eq];
                value = a[(eq + 1)..];
                inline = true;
            }
            if (flags.Contains(name) && !inline)
            {
                Add(name, null);
            }
            else if (valued.Contains(name))
            {
                if (!inline)
                {
                    if (i + 1 >= args.Count) throw new UsageException($"{name} needs a value");
                    value = args[++i];
                }
                Add(name, value);
            }
            else
            {
                throw new UsageException(a.StartsWith('-') ? $"unknown option {a}" : $"unexpected argument '{a}'");
            }
        }
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public string Required(string name) => Get(name) ?? throw new UsageException($"{name} is required");

    public int Int(string name, int fallback, int min, int max)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new UsageException($"{name} must be an integer in [{min}, {max}], got '{s}'");
        return v;
    }

    public double Double(string name, double fallback, double min, double max)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        if (!double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) || !(v >= min && v <= max))
            throw new UsageException($"{name} must be a number in [{min}, {max}], got '{s}'");
        return v;
    }

    public float Float(string name, float fallback, float min, float max)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        if (!float.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float v) || !(v >= min && v <= max))
            throw new UsageException($"{name} must be a number in [{min}, {max}], got '{s}'");
        return v;
    }

    public ulong ULong(string name, ulong fallback)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        if (!ulong.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out ulong v))
            throw new UsageException($"{name} must be a non-negative integer, got '{s}'");
        return v;
    }

    private void Add(string name, string? value)
    {
        if (!_values.TryAdd(name, value)) throw new UsageException($"{name} given twice");
    }
}
