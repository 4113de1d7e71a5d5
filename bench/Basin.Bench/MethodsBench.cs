using System.Diagnostics;
using System.Globalization;
using Basin.Data;
using Basin.Models;
using Basin.Pruning;
using Basin.Training;
using Basin.Training.Methods;
using Basin.Training.PerExample;
using TorchSharp;

namespace Basin.Bench;

/// <summary>
/// Seconds per training step of each training method relative to plain SGD (momentum 0.9) on LeNet-5, batch 128,
/// all in the same process. Methods are timed round-robin (one repeat of each, then the next round) so that
/// changes in machine load fall on all of them alike; the figure per method is its median over rounds.
/// The first epoch (20 steps) is not timed: it warms up and fills SAF's memory bank (Ẽ = 1, active from epoch 1).
/// </summary>
public static class MethodsBench
{
    const int BatchSize = 128;
    const int BatchesPerEpoch = 20;

    static readonly (string Name, Func<Recipe> Recipe)[] Methods =
    [
        ("sgd", () => Base()),
        ("fam (closed form)", () => Base().With(new Fam(0.1))),
        ("fam (detached)", () => Base().With(new Fam(0.1, Curvature: FamCurvature.Detached))),
        ("saf", () => Base().With(new Saf(startEpoch: 1, lambda: 0.3, tau: 5, lag: 1))),
        ("mesa", () => Base().With(new Mesa(0.99, startEpoch: 0, lambda: 0.8, tau: 5))),
        ("sam", () => Base().With(new Sam(0.05))),
        ("asam", () => Base().With(new Asam(0.5, 0.01))),
        ("sgld", () => Base() with { Update = new Sgld(1, BatchSize * BatchesPerEpoch), LearningRate = 1e-6 }),
        ("per-example mean", () => Base().With(new MeanOfPerExample())),
        ("winsorized c=1", () => Base().With(new Winsorized(1))),
        ("winsorized c=4", () => Base().With(new Winsorized(4))),
        ("m3", () => Base().With(new M3())),
        ("rm3", () => Base().With(new Rm3())),
        ("sgd masked 90%", () => Base() with { Update = new MaskedUpdate(new Sgd(0.9), NinetyPercentMask.Value) }),
    ];

    /// <summary>A random mask pruning 90 % of every LeNet-5 weight tensor (kept for the process: recipes share it).</summary>
    static readonly Lazy<PruningMask> NinetyPercentMask = new(() =>
    {
        using var net = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 0);
        using var dense = Prunable.DenseMask(net);
        return RandomPruning.ToSparsity(dense, 0.9, seed: 0);
    });

    static Recipe Base() => Recipe.Sgd(0.01, momentum: 0.9);

    /// <param name="only">Run just the methods whose name contains this (sgd is always run, as the baseline).</param>
    public static void Run(int threads, int steps, int rounds, string? only = null)
    {
        torch.set_num_threads(threads);
        var methods = Methods.Where(m => m.Name == "sgd" || only is null || m.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToArray();
        Console.WriteLine($"methods: LeNet-5, batch {BatchSize}, {steps} timed steps after a {BatchesPerEpoch}-step epoch, {threads} threads, median of {rounds} rounds");
        var times = methods.ToDictionary(m => m.Name, _ => new List<double>());
        foreach (var (_, recipe) in methods) SecondsPerStep(recipe(), 2);   // first-use costs (JIT, allocator) out of the way
        for (int r = 0; r < rounds; r++)
        {
            foreach (var (name, recipe) in methods)
                times[name].Add(SecondsPerStep(recipe(), steps));
            Console.Error.WriteLine($"round {r + 1}: " + string.Join(", ", methods.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} {1000 * times[m.Name][^1]:F1}"))));
        }
        double sgd = Median(times["sgd"]);
        Console.WriteLine($"{"method",-20} {"ms/step",9} {"× sgd",7}");
        foreach (var (name, _) in methods)
        {
            double t = Median(times[name]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-20} {1000 * t,9:F1} {t / sgd,7:F2}"));
        }
        if (only is null || "masked dnr".Contains(only, StringComparison.OrdinalIgnoreCase)) DeadNeuronCost(sgd, rounds);
    }

    /// <summary>
    /// The dead-neuron rate a pruning round logs once per epoch (on 1,000 training examples, the default), against the
    /// epoch's training at the sgd step time just measured, for epochs of 20,000 and 60,000 examples.
    /// </summary>
    static void DeadNeuronCost(double sgdSecondsPerStep, int rounds)
    {
        using var net = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 0);
        var gen = new torch.Generator(1);
        using var data = new LabeledDataset("random", torch.rand([1000, 1, 28, 28], generator: gen), torch.randint(0, 10, [1000],
            generator: gen), 10);
        DeadNeurons.Measure(net, data);
        var times = new List<double>();
        for (int r = 0; r < Math.Max(rounds, 3); r++)
        {
            var clock = Stopwatch.StartNew();
            DeadNeurons.Measure(net, data);
            times.Add(clock.Elapsed.TotalSeconds);
        }
        double dnr = Median(times);
        foreach (int examples in new[] { 20_000, 60_000 })
        {
            double epoch = Math.Ceiling(examples / (double)BatchSize) * sgdSecondsPerStep;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dead-neuron rate on 1,000 examples: {1000 * dnr:F1} ms; an epoch of {examples:N0} examples with it: {(epoch + dnr) / epoch:F3}× (goal <= 1.05)"));
        }
    }

    static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    static double SecondsPerStep(Recipe recipe, int steps)
    {
        using var net = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 0);
        var gen = new torch.Generator(0);
        using var data = new LabeledDataset("random", torch.rand([BatchSize * BatchesPerEpoch, 1, 28, 28], generator: gen),
            torch.randint(0, 10, [BatchSize * BatchesPerEpoch], generator: gen), 10);
        int epochs = 1 + (steps + BatchesPerEpoch - 1) / BatchesPerEpoch;
        long last = BatchesPerEpoch + steps;
        var config = new TrainingConfig(epochs, BatchSize, Seed: 0) { EvaluateEveryEpoch = false };
        var timer = new Stopwatch();
        using var cts = new CancellationTokenSource();
        var progress = new Events(e =>
        {
            if (e is not BatchDone b) return;
            if (b.Step == BatchesPerEpoch) timer.Start();
            else if (b.Step == last) { timer.Stop(); cts.Cancel(); }
        });
        // Evaluation at the end of the run is not part of a step: the run is cancelled after the last timed step.
        try { new Trainer(recipe, config).Run(net, data, null, progress, cts.Token); }
        catch (OperationCanceledException) { }
        return timer.Elapsed.TotalSeconds / steps;
    }

    sealed class Events(Action<TrainingEvent> action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => action(value);
    }
}
