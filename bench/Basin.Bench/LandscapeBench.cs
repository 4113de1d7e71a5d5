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
/// batch-128 loader that copies each batch and reads loss and accuracy back per batch. The two alternate row by row so that both see
/// the same machine load. Both grids must agree to rounding.
/// dotnet run -c Release --project bench/Basin.Bench -- landscape [--threads 2] [--steps 51] [--examples 2000] [--chunk N]
/// </summary>
public static class LandscapeBench
{
    public static int Run(int threads, int steps, int examples, int chunk)
    {
        torch.set_num_threads(threads);
        Console.WriteLine($"landscape: LeNet-5, {steps}×{steps} grid, {examples} examples, Basin chunk {chunk}, {threads} threads; load: {Load()}");
        using var data = ImageDatasets.Load("fashion-mnist", Split.Train, samples: examples);
        using var model = ModelSpec.Create("lenet5", data.ExampleShape, data.ClassCount, seed: 1);
        Train(model, data);
        using var scope = torch.NewDisposeScope();
        var d1 = Directions.Random(model, 123);
        var d2 = Directions.Random(model, 124);
        var grid = Slices.Grid(-1, 1, steps);

        // The two methods alternate row by row (one row of the grid by Basin, the same row by the plain loop), so both see the same
        // machine load; each method's time is the sum over its rows.
        var fast = new double[steps][];
        var plain = new double[steps, steps];
        var plainBig = new double[steps, steps];
        double fastSeconds = 0, plainSeconds = 0, plainBigSeconds = 0;
        var clock = new Stopwatch();
        using (var surface = new LossSurface(model, data, chunkSize: chunk))
            for (int i = 0; i < steps; i++)
            {
                clock.Restart();
                fast[i] = Slices.Plane(surface, d1, d2, [grid[i]], grid).Loss[0];
                fastSeconds += clock.Elapsed.TotalSeconds;
                clock.Restart();
                PlainRow(model, data, d1, d2, grid[i], grid, plain, i, batch: 128);
                plainSeconds += clock.Elapsed.TotalSeconds;
                clock.Restart();
                PlainRow(model, data, d1, d2, grid[i], grid, plainBig, i, batch: examples);
                plainBigSeconds += clock.Elapsed.TotalSeconds;
            }
        Console.WriteLine($"Basin LossSurface: {fastSeconds:F1} s ({1000 * fastSeconds / (steps * steps):F1} ms per point)");
        Console.WriteLine($"plain per-point loop, batches of 128: {plainSeconds:F1} s ({1000 * plainSeconds / (steps * steps):F1} ms per point)");
        Console.WriteLine($"plain per-point loop, one batch of {examples}: {plainBigSeconds:F1} s ({1000 * plainBigSeconds / (steps * steps):F1} ms per point); load: {Load()}");

        double maxDiff = 0;
        for (int i = 0; i < steps; i++)
            for (int j = 0; j < steps; j++) maxDiff = Math.Max(maxDiff, Math.Abs(fast[i][j] - plain[i, j]) / Math.Max(1, Math.Abs(plain[i, j])));
        Console.WriteLine($"largest relative difference of the two grids: {maxDiff:G3}");
        Console.WriteLine($"speed-up (plain, batches of 128 / Basin): {plainSeconds / fastSeconds:F2}×  (goal ≥ 2×)");
        Console.WriteLine($"speed-up (plain, one batch / Basin): {plainBigSeconds / fastSeconds:F2}×  (what the in-place weights and the converted data alone give)");
        return 0;
    }

    // Row α of the grid the way the reference tool does it: per point, new weight tensors θ + αd₁ + βd₂ loaded into the model, then a
    // loader (batch 128 in the reference) that copies each batch, with loss and accuracy read back per batch.
    static void PlainRow(Classifier model, LabeledDataset data, Tensor[] d1, Tensor[] d2, double alpha, double[] betas, double[,] result, int row, int batch)
    {
        var parameters = model.parameters().ToArray();
        var theta = parameters.Select(p => p.detach().clone()).ToArray();
        model.eval();
        using var noGrad = torch.no_grad();
        using var a = alpha.ToScalar();
        for (int j = 0; j < betas.Length; j++)
        {
            using var scope = torch.NewDisposeScope();
            using var b = betas[j].ToScalar();
            for (int p = 0; p < parameters.Length; p++)
                parameters[p].copy_(theta[p].add(d1[p], a).add(d2[p], b));
            double lossSum = 0;
            long correct = 0;
            for (long start = 0; start < data.Count; start += batch)
            {
                long n = Math.Min(batch, data.Count - start);
                var x = data.Inputs.narrow(0, start, n).clone();
                var y = data.Labels.narrow(0, start, n).clone();
                var logits = model.forward(x);
                lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).ToDouble();
                correct += logits.argmax(1).eq(y).sum().ToInt64();
            }
            result[row, j] = lossSum / data.Count;
        }
        for (int p = 0; p < parameters.Length; p++) parameters[p].copy_(theta[p]);
        foreach (var t in theta) t.Dispose();
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
