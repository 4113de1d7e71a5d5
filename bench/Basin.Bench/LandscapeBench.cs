using System.Diagnostics;
using Basin.Data;
using Basin.Landscape;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Bench;

/// <summary>
/// Issue 12: a 2-D filter-normalized slice of LeNet-5 on 2,000 real Fashion-MNIST training examples (51×51 by default), Basin's
/// <see cref="LossSurface"/> (weights set in place, data converted once, one forward per chunk of 2,000) against a plain loop that does
/// what the reference tool does per grid point: build new weight tensors θ + αd₁ + βd₂, load them into the model, and evaluate over a
/// batch-128 loader that copies each batch and reads loss and accuracy back per batch. Both grids must agree to rounding.
/// dotnet run -c Release --project bench/Basin.Bench -- landscape [--threads 2] [--steps 51] [--examples 2000]
/// </summary>
public static class LandscapeBench
{
    public static int Run(int threads, int steps, int examples)
    {
        torch.set_num_threads(threads);
        Console.WriteLine($"landscape: LeNet-5, {steps}×{steps} grid, {examples} examples, {threads} threads; load: {Load()}");
        using var data = ImageDatasets.Load("fashion-mnist", Split.Train, samples: examples);
        using var model = ModelSpec.Create("lenet5", data.ExampleShape, data.ClassCount, seed: 1);
        Train(model, data);
        using var scope = torch.NewDisposeScope();
        var d1 = Directions.Random(model, 123);
        var d2 = Directions.Random(model, 124);
        var grid = Slices.Grid(-1, 1, steps);

        var clock = Stopwatch.StartNew();
        Slice2D fast;
        using (var surface = new LossSurface(model, data, chunkSize: examples))
            fast = Slices.Plane(surface, d1, d2, grid, grid);
        double fastSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"Basin LossSurface: {fastSeconds:F1} s ({1000 * fastSeconds / (steps * steps):F1} ms per point); load: {Load()}");

        clock.Restart();
        var plain = PlainLoop(model, data, d1, d2, grid);
        double plainSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"plain per-point loop: {plainSeconds:F1} s ({1000 * plainSeconds / (steps * steps):F1} ms per point); load: {Load()}");

        double maxDiff = 0;
        for (int i = 0; i < steps; i++)
            for (int j = 0; j < steps; j++) maxDiff = Math.Max(maxDiff, Math.Abs(fast.Loss[i][j] - plain[i, j]) / Math.Max(1, Math.Abs(plain[i, j])));
        Console.WriteLine($"largest relative difference of the two grids: {maxDiff:G3}");
        Console.WriteLine($"speed-up (plain / Basin): {plainSeconds / fastSeconds:F2}×  (goal ≥ 2×)");
        return 0;
    }

    static double[,] PlainLoop(Classifier model, LabeledDataset data, Tensor[] d1, Tensor[] d2, double[] grid)
    {
        var parameters = model.parameters().ToArray();
        var theta = parameters.Select(p => p.detach().clone()).ToArray();
        var result = new double[grid.Length, grid.Length];
        model.eval();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < grid.Length; i++)
            for (int j = 0; j < grid.Length; j++)
            {
                using var scope = torch.NewDisposeScope();
                using var a = grid[i].ToScalar();
                using var b = grid[j].ToScalar();
                for (int p = 0; p < parameters.Length; p++)
                {
                    var w = theta[p].add(d1[p], a).add(d2[p], b);   // new tensors per point, as the reference's set_weights
                    parameters[p].copy_(w);
                }
                double lossSum = 0;
                long correct = 0;
                for (long start = 0; start < data.Count; start += 128)
                {
                    long n = Math.Min(128, data.Count - start);
                    var x = data.Inputs.narrow(0, start, n).clone();
                    var y = data.Labels.narrow(0, start, n).clone();
                    var logits = model.forward(x);
                    lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).ToDouble();
                    correct += logits.argmax(1).eq(y).sum().ToInt64();
                }
                result[i, j] = lossSum / data.Count;
            }
        for (int p = 0; p < parameters.Length; p++) parameters[p].copy_(theta[p]);
        return result;
    }

    static void Train(Classifier model, LabeledDataset data)
    {
        model.train();
        using var optimizer = torch.optim.SGD(model.parameters(), 0.05, momentum: 0.9);
        using var generator = new torch.Generator(7);
        for (int e = 0; e < 2; e++)
        {
            using var order = torch.randperm(data.Count, generator: generator);
            for (long start = 0; start < data.Count; start += 64)
            {
                using var scope = torch.NewDisposeScope();
                var idx = order.narrow(0, start, Math.Min(64, data.Count - start));
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.forward(data.Inputs.index_select(0, idx)), data.Labels.index_select(0, idx)).backward();
                optimizer.step();
            }
        }
        model.eval();
    }

    static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
