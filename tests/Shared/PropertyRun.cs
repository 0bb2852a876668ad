using FsCheck;
using Microsoft.FSharp.Core;
using Xunit.Sdk;

namespace Nanoq.Testing;

/// <summary>
/// Runs an FsCheck property inside a [Fact] with a seed chosen here, so that a failure always names the seed that
/// replays it (pass it back as <c>replay</c>, e.g. <c>PropertyRun.Check(p, 300, replay: "123,457")</c>), and so
/// that the test can assert afterwards on counters the property kept — how often its non-trivial branch ran.
/// FsCheck's own [Property] prints its seed too, but cannot assert anything after its last case.
/// </summary>
internal static class PropertyRun
{
    public static void Check(Property property, int maxTest, string? replay = null)
    {
        ulong seed, gamma;
        if (replay is null)
        {
            seed = (ulong)Random.Shared.NextInt64();
            gamma = (ulong)Random.Shared.NextInt64() | 1; // SplitMix's gamma must be odd
        }
        else
        {
            var parts = replay.Split(',');
            seed = ulong.Parse(parts[0].Trim(' ', '(', ')'));
            gamma = ulong.Parse(parts[1].Trim(' ', '(', ')'));
        }
        var config = Config.QuickThrowOnFailure.WithMaxTest(maxTest)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, gamma), FSharpOption<int>.None)));
        try
        {
            FsCheck.Check.One(config, property);
        }
        catch (Exception e) when (e is not XunitException)
        {
            throw new XunitException($"{e.Message}\nReplay this run with replay: \"{seed},{gamma}\".");
        }
    }
}
