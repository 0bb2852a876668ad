using System.Globalization;

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

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new FashionMnistTrainer.Options();
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                if (a is "--help" or "-h") { stdout.Write(Help); return 0; }
                if (i + 1 >= args.Length) throw new ArgumentException($"{a} needs a value");
                string v = args[++i];
                o = a switch
                {
                    "--epochs" => o with { Epochs = PositiveInt(a, v) },
                    "--batch" => o with { BatchSize = PositiveInt(a, v) },
                    "--lr" => o with { Lr = float.Parse(v, CultureInfo.InvariantCulture) },
                    "--train-limit" => o with { TrainLimit = PositiveInt(a, v) },
                    "--test-limit" => o with { TestLimit = PositiveInt(a, v) },
                    "--seed" => o with { Seed = ulong.Parse(v, CultureInfo.InvariantCulture) },
                    "--data" => o with { DataDirectory = v },
                    _ => throw new ArgumentException($"unknown option {a}"),
                };
            }
            var results = FashionMnistTrainer.Train(o, stderr);
            var last = results[^1];
            stdout.WriteLine($"test accuracy {last.TestAccuracy * 100:F2}% after {last.Epoch} epochs, {last.Elapsed.TotalSeconds:F0} s");
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or Nanoq.Coco.CocoFormatException)
        {
            stderr.WriteLine($"nanoq fashion-mnist: {e.Message.ReplaceLineEndings(" ")}");
            return 2;
        }
    }

    private static int PositiveInt(string name, string v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new ArgumentException($"{name} must be a positive integer, got '{v}'");
}
