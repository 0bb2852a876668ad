using BenchmarkDotNet.Running;
using Nanoq.Benchmarks;

if (args.Length > 0 && args[0] == "--winograd") WinogradCheck.Run(args);
else BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
