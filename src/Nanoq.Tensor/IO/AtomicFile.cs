using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Nanoq.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a mix:
/// write to a temporary sibling, flush it to the disk, then rename it over the target (atomic on POSIX
/// file systems). If anything fails, the temporary file is removed and the previous file stays intact.
/// A process killed mid-write (SIGKILL, power loss) cannot remove its temporary file; such orphans are named
/// <c>.NAME.PID.GUID.tmp</c> and <see cref="RemoveStaleTemporaries"/> clears them (a command calls it on start).
/// </summary>
public static partial class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>
    /// Deletes the temporary files that <see cref="Write"/> left behind in <paramref name="directory"/> (and its
    /// subfolders if <paramref name="recursive"/>) when its process was killed, and returns their paths. Only names of
    /// the exact form <c>.NAME.PID.GUID.tmp</c> are considered, so a user's own <c>*.tmp</c> files are never touched.
    /// One is stale when
    /// <list type="bullet">
    /// <item>its writer (PID) is not running and it has not been written for <paramref name="minIdle"/> (default 1 minute:
    ///   a writer in another container or on another machine sharing the folder has a PID this process cannot see, and a
    ///   live write touches its file continuously), or</item>
    /// <item>it has not been written for <paramref name="maxIdle"/> (default 1 hour), whoever wrote it: the PID may have
    ///   been reused, and no Nanoq write stalls for an hour.</item>
    /// </list>
    /// The current process's own temporary files are always kept (another thread may be writing one). A file that
    /// vanishes or cannot be deleted meanwhile is skipped; a missing folder removes nothing.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleTemporaries(string directory, bool recursive = false,
        TimeSpan? minIdle = null, TimeSpan? maxIdle = null)
    {
        var removed = new List<string>();
        if (!Directory.Exists(directory)) return removed;
        var min = minIdle ?? TimeSpan.FromMinutes(1);
        var max = maxIdle ?? TimeSpan.FromHours(1);
        var now = DateTime.UtcNow;
        var options = new EnumerationOptions { RecurseSubdirectories = recursive, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var path in Directory.EnumerateFiles(directory, ".*.tmp", options))
        {
            var m = TempName().Match(Path.GetFileName(path));
            if (!m.Success || !int.TryParse(m.Groups[1].ValueSpan, out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                var idle = now - File.GetLastWriteTimeUtc(path);
                bool stale = idle >= max || (idle >= min && !IsRunning(pid));
                if (!stale) continue;
                File.Delete(path);
                removed.Add(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    // .NAME.PID.GUID.tmp, exactly as Write makes it (GUID in "N" format: 32 lowercase hex digits).
    [GeneratedRegex(@"^\..+\.(\d{1,10})\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TempName();
}
