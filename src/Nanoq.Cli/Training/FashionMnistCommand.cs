using Nanoq.Cli.Commands;

namespace Nanoq.Cli.Training;

/// <summary><c>nanoq fashion-mnist [--epochs N] [--batch N] [--lr X] [--train-limit N] [--seed N]</c>.</summary>
public static class FashionMnistCommand
{
    internal static readonly CliCommand Definition = new("fashion-mnist",
        """
        Usage: nanoq fashion-mnist [--epochs 3] [--batch 64] [--lr 0.05] [--train-limit N] [--test-limit N] [--seed 0] [--data DIR]
        """,
        """
        Trains a small CNN (2 conv-BN-ReLU-pool stages, 2 linear layers) on Fashion-MNIST with SGD and prints the
        test accuracy after each epoch. Needs Debian's dataset-fashion-mnist (files in /usr/share/datasets/fashion-mnist).
        """,
        spec =>
        {
            var d = new FashionMnistTrainer.Options();
            spec.Int("--epochs", "N", $"epochs (default {d.Epochs})", 1, 1000);
            spec.Int("--batch", "N", $"images a step (default {d.BatchSize})", 1, 60000);
            spec.Float("--lr", "X", $"learning rate (default {d.Lr.ToString(System.Globalization.CultureInfo.InvariantCulture)})", 1e-8f, 10f);
            spec.Int("--train-limit", "N", "use the first N training images (default 0: all)", 0, 60000);
            spec.Int("--test-limit", "N", "use the first N test images (default 0: all)", 0, 10000);
            spec.ULong("--seed", "N", $"random seed (default {d.Seed})");
            spec.Text("--data", "DIR", $"where the IDX files are (default {d.DataDirectory})");
        },
        (cl, stdout, stderr) =>
        {
            var d = new FashionMnistTrainer.Options();
            var o = d with
            {
                Epochs = cl.Int("--epochs", d.Epochs),
                BatchSize = cl.Int("--batch", d.BatchSize),
                Lr = cl.Float("--lr", d.Lr),
                TrainLimit = cl.Int("--train-limit", d.TrainLimit),
                TestLimit = cl.Int("--test-limit", d.TestLimit),
                Seed = cl.ULong("--seed", d.Seed),
                DataDirectory = cl.Get("--data") ?? d.DataDirectory,
            };
            var results = FashionMnistTrainer.Train(o, stderr);
            var last = results[^1];
            stdout.WriteLine($"test accuracy {last.TestAccuracy * 100:F2}% after {last.Epoch} epochs, {last.Elapsed.TotalSeconds:F0} s");
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);
}
