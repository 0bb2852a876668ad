using BenchmarkDotNet.Running;
using Nanoq.Integer.Benchmarks;

if (args.Length > 0 && args[0] == "--check")
{
    QuickCheck.Run(args.Length > 1 ? int.Parse(args[1]) : 30);
    return;
}
if (args.Length > 0 && args[0] == "--fc")
{
    FullyConnectedCheck.Run(args.Length > 1 ? int.Parse(args[1]) : 200);
    return;
}
if (args.Length > 0 && args[0] == "--winograd")
{
    WinogradCheck.Run(args.Length > 1 ? int.Parse(args[1]) : 40);
    return;
}
if (args.Length > 0 && args[0] == "--ceiling")
{
    KernelCeiling.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
