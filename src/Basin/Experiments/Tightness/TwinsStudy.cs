using System.Diagnostics;
using System.Globalization;
using Basin.Data;
using Basin.IO;
using Basin.Measures;
using Basin.Models;
using Basin.Experiments;
using Basin.Tightness;
using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Experiments.Tightness;

/// <summary>
/// The twin experiment (Gastpar et al., "Fantastic Generalization Measures are Nowhere to be Found"): a universe of
/// <see cref="Universe"/> images with uniform random labels, a sample of <see cref="Sample"/> draws with replacement,
/// one network per (model, learning rate, seed) trained with Adam on all of U until the training loss reaches
/// <see cref="StopLoss"/> (at most <see cref="MaxEpochs"/> epochs); every measure is computed once on (S, h, θ₀), and
/// <see cref="Natural"/> adds the true-label contrast.
/// </summary>
public sealed record TwinsConfig
{
    public string Dataset { get; init; } = "fashion-mnist";
    public string? DataPath { get; init; }
    public int Universe { get; init; } = 2000;
    public int Sample { get; init; } = 1000;
    public IReadOnlyList<string> Models { get; init; } = ["mlp:256", "mlp:512"];
    public IReadOnlyList<double> LearningRates { get; init; } = [1e-3, 5e-4];
    public IReadOnlyList<long> Seeds { get; init; } = [1, 2];
    public int MaxEpochs { get; init; } = 500;
    public int BatchSize { get; init; } = 100;
    public double StopLoss { get; init; } = 0.005;
    /// <summary>Independent scenario-2 completions c whose L₂ shows its concentration.</summary>
    public int Completions { get; init; } = 100;
    /// <summary>Seed of the universe's images, its random labels and the sample's draws.</summary>
    public long Seed { get; init; }
    /// <summary>"all" or measure names from the registry, separated by commas.</summary>
    public string Measures { get; init; } = "all";
    public bool Natural { get; init; } = true;
    public int? Threads { get; init; }
    /// <summary>Output folder (default: ./tightness-twins-seedS).</summary>
    public string? Output { get; init; }

    public void Validate()
    {
        if (Sample < 1) throw new BasinException($"--sample must be at least 1, got {Sample}");
        if (Universe < Sample)
            throw new BasinException($"the universe ({Universe} points) must not be smaller than the sample ({Sample} draws)");
        if (Models.Count == 0 || LearningRates.Count == 0 || Seeds.Count == 0)
            throw new BasinException("give at least one model, learning rate and seed");
        if (LearningRates.Any(r => !(r > 0) || !double.IsFinite(r)))
            throw new BasinException($"learning rates must be finite and > 0, got {string.Join(",", LearningRates)}");
        if (MaxEpochs < 1) throw new BasinException($"--max-epochs must be at least 1, got {MaxEpochs}");
        if (BatchSize < 1) throw new BasinException($"--batch-size must be at least 1, got {BatchSize}");
        if (!(StopLoss > 0)) throw new BasinException($"--stop-loss must be > 0, got {StopLoss}");
        if (Completions < 2) throw new BasinException($"--completions must be at least 2, got {Completions}");
        if (Threads is < 1) throw new BasinException($"threads must be at least 1, got {Threads}");
        MeasureRegistry.Select([Measures]);
    }
}

/// <summary>A measure's value on one network, or why it has none.</summary>
public sealed record MeasureValue(string Measure, double? Value, string? Error, double Seconds);

/// <summary>
/// One twin network: its epochs and last train cross-entropy on (U, ℓ), its accuracy there, L₁ (scenario 1) and L₂
/// (scenario 2, completion seeded by the network's index), L₂'s mean and standard deviation over independent completions,
/// and its measures on (S, h, θ₀), which are the same under both interpretations.
/// </summary>
public sealed record TwinNetwork(string Model, double LearningRate, long Seed, int Epochs, double FinalTrainLoss,
    double UniverseAccuracy, double L1, double L2,
    double L2CompletionMean, double L2CompletionSd, double TrainSeconds, IReadOnlyList<MeasureValue> Measures);

/// <summary>
/// A measure turned into a bound B = a + b·μ: calibrated on scenario 1 (where every L₁ is 0) and scored on scenario 2, and
/// the converse, as mean |B − L| over the networks; <paramref name="BestWorstCase"/> = mean L₂/2 is the least
/// max(|B − L₁|, |B − L₂|) any function of (S, h) achieves on these twins.
/// </summary>
public sealed record TwinBoundRow(string Measure, int Networks, double FitOn1ErrorOn1, double FitOn1ErrorOn2, double FitOn2ErrorOn2,
    double FitOn2ErrorOn1, double BestWorstCase);

/// <summary>A network of the natural-label contrast: its loss under the true labels, its disagreement with the S-only
/// model on U \ S, the <see cref="DisagreementEstimate"/> from it, and its measures on (S with true labels, h).</summary>
public sealed record NaturalNetwork(string Role, string Labels, double UniverseAccuracy, double TrueLoss, double Disagreement,
    double Estimate,
    IReadOnlyList<MeasureValue> Measures);

/// <summary>The true-label contrast: h_true, h_wrong, and the S-only model's held-out and actual unseen error.</summary>
public sealed record NaturalContrast(string Model, double HeldOutError, double SampleModelUnseenError,
    IReadOnlyList<NaturalNetwork> Networks);

public sealed record TwinsResult(TwinsConfig Config, int UniverseSize, int SampleSize, int DistinctSampled, double UnseenFraction,
    double ExpectedUnseenFraction, double ExpectedL2, IReadOnlyList<TwinNetwork> Networks, IReadOnlyList<TwinBoundRow> Bounds,
    NaturalContrast? Natural, string OutputFolder, string JsonPath, double Seconds);

/// <summary>What the study is doing: a stage and a count within it.</summary>
public sealed record TwinsProgress(string Stage, int Done, int Of, string What);

/// <summary>Runs <see cref="TwinsConfig"/>; writes results.json and measures.csv into the output folder.</summary>
public static class TwinsStudy
{
    public static TwinsResult Run(TwinsConfig config, IProgress<TwinsProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var clock = Stopwatch.StartNew();
        var measures = MeasureRegistry.Select([config.Measures]);
        int threadsBefore = get_num_threads();
        if (config.Threads is { } t) set_num_threads(t);
        try
        {
            using var all = ImageDatasets.Load(config.Dataset, Split.Train, config.DataPath);
            if (all.Count < config.Universe)
                throw new BasinException($"{all.Name} has {all.Count} images, fewer than the universe ({config.Universe})");
            using var universe = TrainingSubset.Random(all, config.Universe, config.Seed);
            var twin = TwinSample.Draw(config.Universe, config.Sample, universe.ClassCount, config.Seed);
            var output = config.Output ?? Path.Combine(Directory.GetCurrentDirectory(), $"tightness-twins-seed{config.Seed}");
            Directory.CreateDirectory(output);

            var grid = (from model in config.Models from lr in config.LearningRates from seed in config.Seeds
                        select (model, lr, seed)).ToArray();
            var networks = new List<TwinNetwork>();
            using (var randomU = WithLabels(universe, twin.Labels, "random"))
            using (var sample = SampleData(randomU, twin))
            {
                for (int i = 0; i < grid.Length; i++)
                {
                    var (spec, lr, seed) = grid[i];
                    progress?.Report(new TwinsProgress("twins", i, grid.Length,
                        $"training {spec} lr {lr.ToString(CultureInfo.InvariantCulture)} seed {seed}"));
                    var (model, initial, training, seconds) = Train(spec, lr, seed, randomU, config, ct);
                    using (model)
                    using (initial)
                    {
                        var predictions = Predict(model, randomU);
                        double l1 = twin.Loss(predictions, twin.Labels);
                        double l2 = twin.Loss(predictions, twin.Scenario2Labels(CompletionSeed(config.Seed, i, 0)));
                        var completions = Enumerable.Range(1, config.Completions)
                            .Select(k => twin.Loss(predictions, twin.Scenario2Labels(CompletionSeed(config.Seed, i, k)))).ToArray();
                        progress?.Report(new TwinsProgress("twins", i, grid.Length,
                            $"measuring {spec} lr {lr.ToString(CultureInfo.InvariantCulture)} seed {seed}"));
                        var values = Measure(measures, model, initial, sample, training, seed, ct);
                        networks.Add(new TwinNetwork(model.Spec, lr, seed, training.Epochs.Count, training.Final.TrainLoss, 1 - l1, l1,
                            l2, completions.Average(),
                            SampleStatistics.StandardDeviation(completions), seconds, values));
                    }
                }
            }
            progress?.Report(new TwinsProgress("twins", grid.Length, grid.Length, "done"));
            var bounds = measures.Select(m => BoundRow(m.Name, networks)).ToArray();

            NaturalContrast? natural = null;
            if (config.Natural)
                natural = Contrast(universe, twin, grid[0], config, measures, progress, ct);

            var jsonPath = Path.Combine(output, "results.json");
            var result = new TwinsResult(config, config.Universe, config.Sample, config.Universe - twin.UnseenCount, twin.UnseenFraction,
                TwinSample.ExpectedUnseenFraction(config.Universe, config.Sample),
                TwinSample.ExpectedScenario2Loss(config.Universe, config.Sample, universe.ClassCount), networks, bounds, natural,
                    output, jsonPath,
                clock.Elapsed.TotalSeconds);
            AtomicFile.WriteAllText(jsonPath, Json.Serialize(result));
            AtomicFile.WriteAllText(Path.Combine(output, "measures.csv"), Csv(networks, natural));
            return result;
        }
        finally
        {
            if (config.Threads is not null) set_num_threads(threadsBefore);
        }
    }

    static long CompletionSeed(long seed, int network, int completion) => unchecked(seed * 1_000_003 + network * 10_007 + completion + 1);

    static NaturalContrast Contrast(LabeledDataset universe, TwinSample twin, (string Model, double Lr, long Seed) first,
        TwinsConfig config,
        IReadOnlyList<Measure> measures, IProgress<TwinsProgress>? progress, CancellationToken ct)
    {
        var trueLabels = universe.Labels.data<long>().Select(l => (int)l).ToArray();
        var natural = twin.Relabel(trueLabels);
        var wrongLabels = natural.OnSampleElse(twin.Labels);
        const int steps = 5;
        using var trueU = WithLabels(universe, trueLabels, "true");
        using var sample = SampleData(trueU, natural);

        // The S-only model (distinct sampled points, true labels) and a held-out estimate of its error.
        var distinct = Enumerable.Range(0, natural.UniverseSize).Where(u => natural.Seen[u]).ToArray();
        progress?.Report(new TwinsProgress("natural", 0, steps, "training the S-only model"));
        int[] sampleModel;
        using (var onS = Subset(trueU, distinct))
        {
            var (m, init, _, _) = Train(first.Model, first.Lr, first.Seed, onS, config, ct);
            using (m) using (init) sampleModel = Predict(m, trueU);
        }
        progress?.Report(new TwinsProgress("natural", 1, steps, "held-out error of the S-only model"));
        double heldOut;
        {
            var order = distinct.ToArray();
            SeededRandom.Create(config.Seed + 17).Shuffle(order);
            int fit = Math.Max(1, (int)Math.Round(order.Length * 0.8));
            if (fit >= order.Length) throw new BasinException("the sample has too few distinct points for a held-out split");
            using var part = Subset(trueU, order[..fit]);
            using var rest = Subset(trueU, order[fit..]);
            var (m, init, _, _) = Train(first.Model, first.Lr, first.Seed, part, config, ct);
            using (m) using (init) heldOut = 1 - Evaluation.Evaluate(m, rest).Accuracy;
        }
        double sampleModelUnseen = natural.UnseenDisagreement(sampleModel, trueLabels);

        var rows = new List<NaturalNetwork>();
        int stage = 2;
        var roles = new[] { ("h_true", trueLabels, "true labels on U"), ("h_wrong", wrongLabels, "true labels on S, random elsewhere") };
        foreach (var (role, labels, name) in roles)
        {
            progress?.Report(new TwinsProgress("natural", stage++, steps, $"training and measuring {role}"));
            using var data = WithLabels(universe, labels, role);
            var (model, initial, training, _) = Train(first.Model, first.Lr, first.Seed, data, config, ct);
            using (model)
            using (initial)
            {
                var predictions = Predict(model, data);
                double accuracy = 1 - natural.Loss(predictions, labels);
                double loss = natural.Loss(predictions, trueLabels);
                double dis = natural.UnseenDisagreement(predictions, sampleModel);
                var values = Measure(measures, model, initial, sample, training, first.Seed, ct);
                rows.Add(new NaturalNetwork(role, name, accuracy, loss, dis,
                    DisagreementEstimate.Of(natural.UnseenFraction, dis, heldOut, natural.Classes), values));
            }
        }
        progress?.Report(new TwinsProgress("natural", steps, steps, "done"));
        return new NaturalContrast(first.Model, heldOut, sampleModelUnseen, rows);
    }

    static (Classifier Model, Classifier Initial, TrainingResult Training, double Seconds) Train(string spec, double lr, long seed,
        LabeledDataset data,
        TwinsConfig config, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var model = ModelSpec.Create(spec, data.ExampleShape, data.ClassCount, seed);
        var initial = ModelSpec.Create(spec, data.ExampleShape, data.ClassCount, seed);
        try
        {
            var trainer = new Trainer(Recipe.Adam(lr), new TrainingConfig(config.MaxEpochs, config.BatchSize, seed)
            {
                StopAtTrainLoss = config.StopLoss,
                EvaluationBatchSize = 2000,
            });
            var result = trainer.Run(model, data, cancellationToken: ct);
            model.eval();
            return (model, initial, result, clock.Elapsed.TotalSeconds);
        }
        catch
        {
            model.Dispose();
            initial.Dispose();
            throw;
        }
    }

    static IReadOnlyList<MeasureValue> Measure(IReadOnlyList<Measure> measures, Classifier model, Classifier initial, LabeledDataset sample,
        TrainingResult training, long seed, CancellationToken ct)
    {
        var curve = training.Epochs.Where(e => e.Evaluated).Select(e => new CurvePoint(e.Steps, e.TrainLoss)).ToArray();
        var context = new MeasureContext(model, sample)
        {
            Initial = initial,
            Curve = curve,
            Options = new MeasureOptions { Samples = null, Seed = seed },
            CancellationToken = ct,
        };
        var values = new List<MeasureValue>();
        foreach (var m in measures)
        {
            var clock = Stopwatch.StartNew();
            try { values.Add(new MeasureValue(m.Name, m.Compute(context), null, clock.Elapsed.TotalSeconds)); }
            catch (BasinException e) { values.Add(new MeasureValue(m.Name, null, e.Message, clock.Elapsed.TotalSeconds)); }
        }
        return values;
    }

    internal static TwinBoundRow BoundRow(string measure, IReadOnlyList<TwinNetwork> networks)
    {
        var mu = networks.Select(n => n.Measures.First(v => v.Measure == measure).Value ?? double.NaN).ToArray();
        var l1 = networks.Select(n => n.L1).ToArray();
        var l2 = networks.Select(n => n.L2).ToArray();
        int finite = mu.Count(double.IsFinite);
        double best = networks.Average(n => Math.Abs(n.L2 - n.L1) / 2);
        if (finite == 0) return new TwinBoundRow(measure, 0, double.NaN, double.NaN, double.NaN, double.NaN, best);
        var on1 = AffineBound.Fit(mu, l1);
        var on2 = AffineBound.Fit(mu, l2);
        return new TwinBoundRow(measure, finite, on1.MeanAbsoluteError(mu, l1), on1.MeanAbsoluteError(mu, l2),
            on2.MeanAbsoluteError(mu, l2), on2.MeanAbsoluteError(mu, l1), best);
    }

    internal static LabeledDataset WithLabels(LabeledDataset universe, IReadOnlyList<int> labels, string what) =>
        new($"{universe.Name}-universe-{what}", universe.Inputs.clone(), tensor(labels.Select(l => (long)l).ToArray()),
            universe.ClassCount);

    /// <summary>S as a data set: the drawn points in draw order (repeats included), with the labels of <paramref name="data"/>.</summary>
    internal static LabeledDataset SampleData(LabeledDataset data, TwinSample twin) => Subset(data, twin.Draws.ToArray());

    static LabeledDataset Subset(LabeledDataset data, int[] indices)
    {
        using var index = tensor(indices.Select(i => (long)i).ToArray());
        return data.Select(index);
    }

    static int[] Predict(Classifier model, LabeledDataset data)
    {
        using var scope = NewDisposeScope();
        var logits = Evaluation.Logits(model, data, checked((int)data.Count));   // one chunk: the forward pass it always was
        return logits.argmax(1).data<long>().Select(l => (int)l).ToArray();
    }

    static string Csv(IReadOnlyList<TwinNetwork> networks, NaturalContrast? natural)
    {
        var inv = CultureInfo.InvariantCulture;
        var names = networks[0].Measures.Select(m => m.Measure).ToArray();
        var lines = new List<string> { "experiment,network,model,lr,seed,l1,l2," + string.Join(",", names) };
        string Values(IReadOnlyList<MeasureValue> v) => string.Join(",", v.Select(x => x.Value?.ToString("R", inv) ?? ""));
        foreach (var n in networks)
            lines.Add($"twins,{n.Model}-lr{n.LearningRate.ToString(inv)}-seed{n.Seed},{n.Model},{n.LearningRate.ToString(inv)},{n.Seed}," +
                $"{n.L1.ToString("R", inv)},{n.L2.ToString("R", inv)},{Values(n.Measures)}");
        if (natural is not null)
            foreach (var n in natural.Networks)
                lines.Add($"natural,{n.Role},{natural.Model},,,{n.TrueLoss.ToString("R", inv)},,{Values(n.Measures)}");
        return string.Join('\n', lines) + "\n";
    }
}
