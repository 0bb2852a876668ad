using Nanoq.IO;

namespace Nanoq.Tests.IO;

/// <summary>
/// Orphaned temporary files of killed writes (issue 19): <see cref="AtomicFile.RemoveStaleTemporaries"/> removes
/// exactly the stale ones and nothing a live writer or a user owns.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanoq-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // No process has this id (Linux caps PIDs at 2^22; Process.GetProcessById refuses it).
    private const int DeadPid = 2_000_000_000;

    private string Temp(string target, int pid, TimeSpan age, string? sub = null)
    {
        string dir = sub is null ? _dir : Directory.CreateDirectory(Path.Combine(_dir, sub)).FullName;
        string path = Path.Combine(dir, $".{target}.{pid}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(path, [1, 2, 3]);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    [Fact]
    public void RemovesOrphansOfKilledWritersAndKeepsEverythingElse()
    {
        // The reproduction: a save killed between create and rename leaves .float.safetensors.PID.GUID.tmp behind.
        string orphan = Temp("float.safetensors", DeadPid, TimeSpan.FromMinutes(5));
        string justCreated = Temp("summary.json", DeadPid, TimeSpan.Zero);            // maybe a writer we cannot see
        string mine = Temp("a.json", Environment.ProcessId, TimeSpan.FromDays(3));    // this process may be writing it
        string liveRecent = Temp("b.json", 1, TimeSpan.FromMinutes(5));               // PID 1 (init) always runs
        string ancient = Temp("c.json", 1, TimeSpan.FromHours(2));                    // PID reused, or hung for hours
        string nested = Temp("d.json", DeadPid, TimeSpan.FromMinutes(5), sub: "checkpoints");
        string user1 = Path.Combine(_dir, "notes.tmp"), user2 = Path.Combine(_dir, ".editor.swp.tmp");
        File.WriteAllText(user1, "x");
        File.WriteAllText(user2, "x");
        File.SetLastWriteTimeUtc(user2, DateTime.UtcNow.AddDays(-3));

        var removed = AtomicFile.RemoveStaleTemporaries(_dir);
        Assert.Equal(new[] { orphan, ancient }.Order(), removed.Order());
        foreach (var kept in new[] { justCreated, mine, liveRecent, nested, user1, user2 }) Assert.True(File.Exists(kept), kept);

        Assert.Equal([nested], AtomicFile.RemoveStaleTemporaries(_dir, recursive: true));
        Assert.Empty(AtomicFile.RemoveStaleTemporaries(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void AFailedWriteLeavesNoTemporaryAndTheOldContent()
    {
        string path = Path.Combine(_dir, "x.bin");
        AtomicFile.Write(path, s => s.Write([1, 2]));
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s => { s.Write([9, 9, 9]); throw new IOException("disk gone"); }));
        Assert.Equal([1, 2], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }
}
