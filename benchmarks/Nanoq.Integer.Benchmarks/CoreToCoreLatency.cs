using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// The one-way latency of a cache line between two threads (a ping-pong), printed beside the timings as a marker of where
/// the VM's two cores sit: 30–85 ns within one core complex (a shared L3), 160–200 ns across two on this Zen 4 (a harness
/// probing between rounds of the conv, 2026-12-07). A single reading is coarse: `--check` has read 50–280 ns, values
/// between the two common.
/// Across, any line one thread writes and the other reads costs that much, which is what a kernel's task split must avoid
/// (<c>TaskRanges</c>); the host moves the cores between the two placements from time to time, even within a process.
/// </summary>
internal static unsafe class CoreToCoreLatency
{
    public static double Nanoseconds(int roundTrips = 200_000)
    {
        long* line = (long*)NativeMemory.AlignedAlloc(128, 64);
        try
        {
            *line = 0;
            var echo = new Thread(() =>
            {
                for (long i = 1; i < 2L * roundTrips; i += 2)
                {
                    while (Volatile.Read(ref *line) != i) { }
                    Volatile.Write(ref *line, i + 1);
                }
            });
            echo.Start();
            var sw = Stopwatch.StartNew();
            for (long i = 0; i < 2L * roundTrips; i += 2)
            {
                Volatile.Write(ref *line, i + 1);
                while (Volatile.Read(ref *line) != i + 2) { }
            }
            double ns = sw.Elapsed.TotalNanoseconds / (2.0 * roundTrips);
            echo.Join();
            return ns;
        }
        finally
        {
            NativeMemory.AlignedFree(line);
        }
    }

    /// <summary>Prints the latency — on one CPU only that it was not measured: two spinning threads would take turns by time slices.</summary>
    public static void Print(string when) =>
        Console.WriteLine(Environment.ProcessorCount < 2
            ? $"core-to-core cache-line latency {when}: not measured (one CPU)"
            : $"core-to-core cache-line latency {when}: {Nanoseconds():F0} ns (about 30-85 within a core complex, 160-200 across on the Zen 4 of 2026-12-07)");
}
