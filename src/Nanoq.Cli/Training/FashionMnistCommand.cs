using Nanoq.Cli.Commands;

namespace Nanoq.Cli.Training;

/// <summary><c>nanoq fashion-mnist [--epochs N] [--batch N] [--lr X] [--train-limit N] [--seed N]</c>.</summary>
public static class FashionMnistCommand
{
    public const string Help =
        """
        Usage: nanoq fashion-mnist [--epochs 3] [--batch 64] [--lr 0.05] [--train-limit N] [--test-limit N] [--seed 0] [--data DIR]

        Trains a small CNN (2 conv-BN-ReLU-pool stages, 2 linear layers) on Fashion-MNIST with SGD and prints the
        test accuracy after each epoch. Needs Debian's dataset-fashion-mnist (files in /usr/share/datasets/fashion-mnist).
        """;

    private static readonly HashSet<string> Valued = ["--epochs", "--batch", "--lr", "--train-limit", "--test-limit", "--seed", "--data"];
    private static readonly HashSet<string> Flags = ["--help", "-h"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        CommandErrors.Run("fashion-mnist", stderr, () =>
        {
            var cl = new CommandLine(args, Valued, Flags);
            if (cl.Has("--help") || cl.Has("-h")) { stdout.Write(Help); return CommandErrors.Ok; }
            var d = new FashionMnistTrainer.Options();
            var o = d with
            {
                Epochs = cl.Int("--epochs", d.Epochs, 1, 1000),
                BatchSize = cl.Int("--batch", d.BatchSize, 1, 60000),
                Lr = cl.Float("--lr", d.Lr, 1e-8f, 10f),
                TrainLimit = cl.Int("--train-limit", d.TrainLimit, 0, 60000),
                TestLimit = cl.Int("--test-limit", d.TestLimit, 0, 10000),
                Seed = cl.ULong("--seed", d.Seed),
                DataDirectory = cl.Get("--data") ?? d.DataDirectory,
            };
            var results = FashionMnistTrainer.Train(o, stderr);
            var last = results[^1];
            stdout.WriteLine($"test accuracy {last.TestAccuracy * 100:F2}% after {last.Epoch} epochs, {last.Elapsed.TotalSeconds:F0} s");
            return CommandErrors.Ok;
        });
}
