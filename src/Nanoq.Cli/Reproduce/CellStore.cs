using System.Text.Json;
using Nanoq.IO;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// The cells' files under the output folder: <c>cells/&lt;id&gt;.json</c>, each finished cell's result (atomic, written
/// last), and <c>cells/&lt;id&gt;/</c>, its working folder (checkpoints, loss curves, the partial record of a cell that
/// was stopped). A rerun loads the finished results and runs only the rest; a stopped cell resumes from its checkpoint.
/// </summary>
public sealed class CellStore(string root)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Dir { get; } = Path.Combine(root, "cells");

    public string ResultPath(CellSpec cell) => Path.Combine(Dir, cell.Id + ".json");

    public string WorkDir(CellSpec cell) => Path.Combine(Dir, cell.Id);

    /// <summary>The finished result of a cell, or null. A result file that does not parse is an error naming it (not silently rerun).</summary>
    public CellResult? TryLoad(CellSpec cell)
    {
        string path = ResultPath(cell);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<CellResult>(File.ReadAllText(path), Json)
                   ?? throw new Nn.StateDictException($"{path}: empty cell result; remove it to run the cell again.");
        }
        catch (JsonException e)
        {
            throw new Nn.StateDictException($"{path}: not a cell result ({e.Message}); remove it to run the cell again.", e);
        }
    }

    public void Save(CellResult result)
    {
        Directory.CreateDirectory(Dir);
        AtomicFile.WriteAllText(Path.Combine(Dir, result.Id + ".json"), JsonSerializer.Serialize(result, Json));
    }
}
