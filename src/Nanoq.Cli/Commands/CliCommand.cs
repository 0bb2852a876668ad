using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Nanoq.Cli.Commands;

/// <summary>
/// One <c>nanoq</c> sub-command on System.CommandLine: its options are declared once (<see cref="CliSpec"/>: names,
/// value names, descriptions, ranges — parse-time validation and the generated <c>--help</c>), its body reads them by
/// name (<see cref="CommandArgs"/>). Bad usage is one line on stderr, "nanoq NAME: … (see nanoq NAME --help)", exit 2.
/// </summary>
internal sealed class CliCommand(string name, string usage, string about, Action<CliSpec> declare,
                                 Func<CommandArgs, TextWriter, TextWriter, int> body, string epilogue = "")
{
    public string Name => name;

    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null };


    public CliSpec Declare()
    {
        var spec = new CliSpec(name);
        declare(spec);
        return spec;
    }

    public int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var spec = Declare();
        var parse = spec.Command.Parse(args, Parser);
        if (parse.Tokens.Any(t => t.Type == TokenType.Option && t.Value is "--help" or "-h"))
        {
            WriteHelp(parse, stdout);
            return CommandErrors.Ok;
        }
        if (FirstError(parse, spec) is string error)
        {
            stderr.WriteLine($"nanoq {name}: {error.ReplaceLineEndings(" ")} (see nanoq {name} --help)");
            return CommandErrors.BadInput;
        }
        return CommandErrors.Run(name, stderr, () =>
        {
            try
            {
                return body(new CommandArgs(parse, spec), stdout, stderr);
            }
            finally
            {
                Terminal.ProgressBar.StopAll(); // the live display of a stage that ended by an exception, before its message
            }
        });
    }

    /// <summary>
    /// The help: the synopsis and the description, then the options section that System.CommandLine's help action
    /// generates from the declarations (names, value names, descriptions), then the epilogue.
    /// </summary>
    private void WriteHelp(ParseResult parse, TextWriter output)
    {
        var generated = new StringWriter();
        parse.Invoke(new InvocationConfiguration { Output = generated, Error = generated });
        string text = generated.ToString().ReplaceLineEndings("\n");
        int at = text.IndexOf("Options:", StringComparison.Ordinal);
        string options = at < 0 ? "" : string.Join("\n", text[at..].TrimEnd().Split('\n').Select(l => l.TrimEnd()));
        output.Write(usage.TrimEnd() + Environment.NewLine + Environment.NewLine + about.TrimEnd() + Environment.NewLine);
        if (options.Length > 0) output.Write(Environment.NewLine + options.ReplaceLineEndings() + Environment.NewLine);
        if (epilogue.Length > 0) output.Write(Environment.NewLine + epilogue.TrimEnd() + Environment.NewLine);
    }

    /// <summary>
    /// The first problem of a parse as one line: an option given twice or without its value, an unknown option (with the
    /// nearest known name, "did you mean"), then System.CommandLine's own errors (our range checks among them).
    /// </summary>
    private static string? FirstError(ParseResult parse, CliSpec spec)
    {
        foreach (var option in spec.Options)
        {
            if (parse.GetResult(option) is not OptionResult { Implicit: false } r) continue;
            if (r.IdentifierTokenCount > 1) return $"{option.Name} given twice";
            if (option.Arity.MinimumNumberOfValues > 0 && r.Tokens.Count == 0) return $"{option.Name} needs a value";
        }
        foreach (var token in parse.UnmatchedTokens)
        {
            string? near = Suggest.Nearest(token.Split('=')[0], spec.Options.SelectMany(o => o.Aliases.Prepend(o.Name)));
            string hint = near is null ? "" : $"; did you mean {near}?";
            return token.StartsWith('-') ? $"unknown option {token}{hint}" : $"unexpected argument '{token}'{hint}";
        }
        return parse.Errors.Count > 0 ? parse.Errors[0].Message : null;
    }
}

/// <summary>The options of one sub-command, declared with System.CommandLine; one option a name (redeclaring returns it).</summary>
internal sealed class CliSpec
{
    private readonly Dictionary<string, Option> _byName = new(StringComparer.Ordinal);

    public CliSpec(string name)
    {
        Command = new Command(name);
        var help = new HelpOption("--help", "-h") { Description = "this text" };
        if (help.Action is HelpAction action) action.MaxWidth = HelpWidth;
        Command.Options.Add(help);
    }

    /// <summary>Help width: fixed, so that the text is the same on a terminal, in a pipe and in tests.</summary>
    private const int HelpWidth = 118;

    public Command Command { get; }

    public IEnumerable<Option> Options => _byName.Values;

    /// <summary>The option of that name, or null where this command does not take it (a shared reader's option).</summary>
    public Option? Find(string name) => _byName.GetValueOrDefault(name);

    public void Text(string name, string valueName, string description) =>
        Add(new Option<string>(name) { HelpName = valueName, Description = description });

    public void Flag(string name, string description) =>
        Add(new Option<bool>(name) { Description = description, Arity = ArgumentArity.Zero });

    public void Int(string name, string valueName, string description, int min, int max) =>
        Add(Number<int>(name, valueName, description, $"an integer in [{min}, {max}]",
            s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v : null));

    public void Float(string name, string valueName, string description, float min, float max) =>
        Add(Number<float>(name, valueName, description, $"a number in [{Show(min)}, {Show(max)}]",
            s => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && v >= min && v <= max ? v : null));

    public void Double(string name, string valueName, string description, double min, double max) =>
        Add(Number<double>(name, valueName, description, $"a number in [{Show(min)}, {Show(max)}]",
            s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max ? v : null));

    public void ULong(string name, string valueName, string description) =>
        Add(Number<ulong>(name, valueName, description, "a non-negative integer",
            s => ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v) ? v : null));

    private static string Show(double v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Show(float v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>A numeric option whose parse error is the CLI's one-line "NAME must be WHAT, got 'VALUE'".</summary>
    private static Option<T?> Number<T>(string name, string valueName, string description, string what, Func<string, T?> parse) where T : struct =>
        new(name)
        {
            HelpName = valueName,
            Description = description,
            CustomParser = r =>
            {
                if (r.Tokens.Count == 0) return null;
                string s = r.Tokens[^1].Value;
                T? v = parse(s);
                if (v is null) r.AddError($"{name} must be {what}, got '{s}'");
                return v;
            },
        };

    private void Add(Option option)
    {
        if (_byName.ContainsKey(option.Name)) return; // shared by two option groups of one command (e.g. --steps)
        _byName[option.Name] = option;
        Command.Options.Add(option);
    }
}

/// <summary>A parsed command line, read by option name; values were validated when parsed.</summary>
internal sealed class CommandArgs(ParseResult parse, CliSpec spec)
{
    /// <summary>Whether the option was given; false for one this command does not declare.</summary>
    public bool Has(string name) => spec.Find(name) is Option o && parse.GetResult(o) is OptionResult { Implicit: false };

    public string? Get(string name) => Value<string>(name);

    public string Required(string name) => Get(name) ?? throw new UsageException($"{name} is required");

    public int Int(string name, int fallback) => Int(name) ?? fallback;

    public int? Int(string name) => Value<int?>(name);

    public float Float(string name, float fallback) => Value<float?>(name) ?? fallback;

    public double Double(string name, double fallback) => Value<double?>(name) ?? fallback;

    public ulong ULong(string name, ulong fallback) => Value<ulong?>(name) ?? fallback;

    private T? Value<T>(string name) => spec.Find(name) is Option o ? parse.GetValue((Option<T>)o) : default;
}

/// <summary>"Did you mean": the known name nearest to a mistyped one (Damerau–Levenshtein, at most a third of its length).</summary>
internal static class Suggest
{
    public static string? Nearest(string typed, IEnumerable<string> known)
    {
        string? best = null;
        int bestD = int.MaxValue;
        foreach (var k in known.Distinct())
        {
            int d = Distance(typed.TrimStart('-'), k.TrimStart('-'));
            if (d < bestD) { bestD = d; best = k; }
        }
        int limit = Math.Max(1, typed.TrimStart('-').Length / 3);
        return bestD <= limit ? best : null;
    }

    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
