using System.Diagnostics;
using System.Globalization;
using System.Text;
using Basin.Data;
using Basin.IO;
using Basin.Landscape;
using Basin.Models;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Experiments.Landscape;

/// <summary>What `basin landscape` draws: a 1-D or 2-D slice around a recorded run's weights.</summary>
public sealed record LandscapeSpec
{
    public required string Run { get; init; }
    /// <summary>1 (a line) or 2 (a plane).</summary>
    public int Dims { get; init; } = 1;
    public double Min { get; init; } = -1;
    public double Max { get; init; } = 1;
    /// <summary>Grid points per axis, both ends included.</summary>
    public int Steps { get; init; } = 51;
    /// <summary>random (filter-normalized Gaussian), eigen (top Hessian eigenvectors, unit norm) or to (θ_B − θ_A towards
    /// <see cref="To"/>).</summary>
    public string Directions { get; init; } = "random";
    /// <summary>The second run for --directions to.</summary>
    public string? To { get; init; }
    /// <summary>Permute the hidden units of <see cref="To"/> to match the run first (weight matching; MLPs).</summary>
    public bool Align { get; init; }
    public long Seed { get; init; } = 123;
    public DirectionNorm Norm { get; init; } = DirectionNorm.Filter;
    public BiasMode Bias { get; init; } = BiasMode.Zero;
    /// <summary>Training examples the loss is averaged over (the first N of the split).</summary>
    public long Samples { get; init; } = 1000;
    /// <summary>Test examples (0: no test curve).</summary>
    public long TestSamples { get; init; } = 1000;
    /// <summary>Examples per forward pass (bounds memory).</summary>
    public int ChunkSize { get; init; } = DefaultChunkSize;
    /// <summary>
    /// LeNet-5's forward pass in libtorch 2.10 on CPU costs about 3.4× more per example at 2,000 examples than at 128–256
    /// (bench/RESULTS.md, quiet machine), so chunks are small.
    /// </summary>
    public const int DefaultChunkSize = 256;
    /// <summary>Allow grids of more than <see cref="LandscapeJob.MaxPoints"/> points.</summary>
    public bool Force { get; init; }
    /// <summary>Output folder (default: RUNS/RUN/landscape-…).</summary>
    public string? Output { get; init; }
    /// <summary>Hessian examples and Lanczos steps for --directions eigen.</summary>
    public long EigenSamples { get; init; } = 500;
    public int EigenSteps { get; init; } = 40;

    public void Check()
    {
        if (Dims is not (1 or 2)) throw new BasinException($"--dims must be 1 or 2, got {Dims}");
        Slices.Grid(Min, Max, Steps);
        if (!LandscapeJob.DirectionNames.Contains(Directions)) throw new BasinException($"unknown --directions '{Directions}' (use " +
            "random, eigen or to RUN2)");
        if (Directions == "to" && To is null) throw new BasinException("--directions to needs a second run: --directions to RUN2");
        if (Directions != "to" && To is not null) throw new BasinException("a second run is only used with --directions to");
        if (Align && Directions != "to") throw new BasinException("--align needs --directions to RUN2");
        if (Samples < 1) throw new BasinException($"--samples must be at least 1, got {Samples}");
        if (TestSamples < 0) throw new BasinException($"--test-samples must be ≥ 0, got {TestSamples}");
        if (ChunkSize < 1) throw new BasinException($"--chunk must be at least 1, got {ChunkSize}");
        if (EigenSamples < 1 || EigenSteps < 2) throw new BasinException("eigen directions need at least 1 example and 2 Lanczos steps");
        double points = Math.Pow(Steps, Dims);
        if (points > LandscapeJob.MaxPoints && !Force)
            throw new BasinException($"{points:G} grid points is more than {LandscapeJob.MaxPoints:G}; lower --steps or pass --force");
    }
}

/// <summary>Loss and accuracy on one split over the grid (1-D: one row).</summary>
public sealed record SliceValues(string Split, long Examples, double[][] Loss, double[][] Accuracy, int NanPoints);

/// <summary>
/// The result of <see cref="LandscapeJob"/>: the grid (alphas, and betas for 2-D), the train and test values, the directions' norms and
/// cosine, the model's own loss, the barrier along the line for --directions to (else null) and the files written.
/// </summary>
public sealed record LandscapeResult(string Run, string? To, string Model, string Dataset, int Dims, string Directions, string Norm,
    string Bias, long Seed, IReadOnlyList<double> Alphas, IReadOnlyList<double>? Betas, IReadOnlyList<double> DirectionNorms,
    double? Cosine, IReadOnlyList<double>? Eigenvalues, Alignment? Alignment, double OwnLoss, SliceValues Train, SliceValues? Test,
    LossBarrier? Barrier, string OutputFolder, IReadOnlyList<string> Files, double Seconds);

/// <summary>Which phase the job is in and how far it has got.</summary>
public sealed record LandscapeProgress(string Phase, long Done, long Of);

/// <summary>
/// `basin landscape`: loads a recorded run, builds the directions, evaluates the slice on the first N training (and test) examples in
/// eval mode, and writes landscape.csv, landscape.json and landscape.png (a line plot, or contour lines over a heat map with the
/// model's point marked) into the output folder.
/// </summary>
public static class LandscapeJob
{
    public static readonly string[] DirectionNames = ["random", "eigen", "to"];

    /// <summary>Grids above this many points need --force.</summary>
    public const double MaxPoints = 1e6;

    public static LandscapeResult Run(LandscapeSpec spec, RunStore store, IProgress<LandscapeProgress>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Check();
        var clock = Stopwatch.StartNew();
        var source = ModelSource.Resolve(spec.Run, store, null, null, null, null);
        var second = spec.To is null ? null : ModelSource.Resolve(spec.To, store, null, null, null, null);
        if (second is not null && !string.Equals(second.Dataset, source.Dataset, StringComparison.OrdinalIgnoreCase))
            throw new BasinException($"run {RunIdOf(second!)} was trained on {second.Dataset} but run " +
                $"{RunIdOf(source)} on {source.Dataset}");
        using var train = source.LoadData(Split.Train, spec.Samples, atMost: true);
        using var test = spec.TestSamples > 0 ? source.LoadData(Split.Test, spec.TestSamples, atMost: true) : null;
        using var model = source.LoadModel(train);
        using var other = second?.LoadModel(train);
        if (other is not null)
        {
            if (model.Spec != other.Spec)
                throw new BasinException($"runs {RunIdOf(source)} ({model.Spec}) and {RunIdOf(second!)} ({other.Spec}) have " +
                    "different architectures");
            Basin.Landscape.Directions.CheckSameArchitecture(model, other, $"run {RunIdOf(source)}", $"run {RunIdOf(second!)}");
        }
        if (other is not null && model.buffers().Any())
            throw new BasinException($"{model.Spec} has batch-norm statistics; interpolating between two such models needs them " +
                "re-estimated at every t, which is not supported yet");
        Alignment? alignment = spec.Align ? WeightMatching.Align(model, other!) : null;

        using var scope = torch.NewDisposeScope();
        progress?.Report(new LandscapeProgress("directions", 0, 1));
        var (directions, eigenvalues) = MakeDirections(spec, model, other, train, ct);
        var alphas = Slices.Grid(spec.Min, spec.Max, spec.Steps);
        var betas = spec.Dims == 2 ? alphas.ToArray() : null;
        double own;
        using (var s = new LossSurface(model, train, spec.ChunkSize)) own = s.At([], []).Loss;

        var trainValues = Evaluate(model, train, "train", spec, directions, alphas, betas, progress, ct);
        var testValues = test is null ? null : Evaluate(model, test, "test", spec, directions, alphas, betas, progress, ct);
        LossBarrier? barrier = null;
        if (spec.Directions == "to" && spec.Dims == 1 && spec.Min <= 0 && spec.Max >= 1)
            barrier = LineBarrier(model, train, spec, directions[0], alphas, trainValues.Loss[0]);

        var folder = spec.Output ?? Path.Combine(store.RunFolder(RunIdOf(source)), DefaultFolderName(spec));
        Directory.CreateDirectory(folder);
        var result = new LandscapeResult(RunIdOf(source), second is null ? null : RunIdOf(second), model.Spec, source.Dataset, spec.Dims,
            spec.Directions, spec.Directions == "random" ? spec.Norm.ToString().ToLowerInvariant() : "none",
            spec.Bias.ToString().ToLowerInvariant(), spec.Seed, alphas, betas, directions.Select(Basin.Landscape.Directions.Norm).ToArray(),
            directions.Length == 2 ? Basin.Landscape.Directions.Cosine(directions[0], directions[1]) : null, eigenvalues, alignment, own,
            trainValues, testValues, barrier, folder, [], 0);
        var csv = Path.Combine(folder, "landscape.csv");
        var png = Path.Combine(folder, "landscape.png");
        var json = Path.Combine(folder, "landscape.json");
        AtomicFile.WriteAllText(csv, Csv(result));
        LandscapePlots.Save(result, png);
        result = result with { Files = [csv, png, json], Seconds = clock.Elapsed.TotalSeconds };
        AtomicFile.WriteAllText(json, Json.Serialize(result));
        return result;
    }

    /// <summary>The id of the recorded run the weights came from (its folder's name).</summary>
    internal static string RunIdOf(ModelSource source) => Path.GetFileName(source.RunFolder
        ?? throw new BasinException("a recorded run is needed"));

    public static string DefaultFolderName(LandscapeSpec spec) =>
        $"landscape-{spec.Dims}d-{(spec.Directions == "to" ? "to-" + spec.To : spec.Directions)}" +
        $"{(spec.Align ? "-aligned" : "")}-seed{spec.Seed}";

    static (Tensor[][] Directions, double[]? Eigenvalues) MakeDirections(LandscapeSpec spec, Classifier model, Classifier? other,
        LabeledDataset train, CancellationToken ct)
    {
        switch (spec.Directions)
        {
            case "random":
                return (Enumerable.Range(0, spec.Dims).Select(i => Basin.Landscape.Directions.Random(model, spec.Seed + i, spec.Norm,
                    spec.Bias)).ToArray(), null);
            case "eigen":
                {
                    using var subset = train.Count > spec.EigenSamples ? train.Take(spec.EigenSamples) : null;
                    var (vectors, values) = Basin.Landscape.Directions.HessianEigenvectors(model, subset ?? train, spec.Dims,
                        spec.EigenSteps, spec.Seed, spec.ChunkSize, ct);
                    return (vectors, values);
                }
            default:
                {
                    var towards = Basin.Landscape.Directions.Between(model, other!);
                    return spec.Dims == 1 ? ([towards], null) : ([towards, Basin.Landscape.Directions.Random(model, spec.Seed, spec.Norm,
                        spec.Bias)], null);
                }
        }
    }

    static SliceValues Evaluate(Classifier model, LabeledDataset data, string split, LandscapeSpec spec, Tensor[][] directions,
        double[] alphas, double[]? betas, IProgress<LandscapeProgress>? progress, CancellationToken ct)
    {
        using var surface = new LossSurface(model, data, spec.ChunkSize);
        var report = progress is null ? null : new SyncProgress<SliceProgress>(p => progress.Report(new LandscapeProgress(split, p.Done,
            p.Of)));
        double[][] loss, accuracy;
        if (betas is null)
        {
            var line = Slices.Line(surface, directions[0], alphas, report, ct);
            (loss, accuracy) = ([line.Loss.ToArray()], [line.Accuracy.ToArray()]);
        }
        else
        {
            var plane = Slices.Plane(surface, directions[0], directions[1], alphas, betas, report, ct);
            (loss, accuracy) = (plane.Loss, plane.Accuracy);
        }
        return new SliceValues(split, data.Count, loss, accuracy, loss.Sum(row => row.Count(double.IsNaN)));
    }

    // The barrier over t ∈ [0, 1] from the grid's points in [0, 1] plus the end points, evaluated if the grid misses them.
    static LossBarrier LineBarrier(Classifier model, LabeledDataset data, LandscapeSpec spec, Tensor[] d, double[] alphas, double[] losses)
    {
        var ts = new List<double>();
        var ls = new List<double>();
        for (int i = 0; i < alphas.Length; i++)
            if (alphas[i] >= 0 && alphas[i] <= 1) { ts.Add(alphas[i]); ls.Add(losses[i]); }
        using var surface = new LossSurface(model, data, spec.ChunkSize);
        foreach (var end in new double[] { 0, 1 })
            if (!ts.Contains(end)) { ts.Add(end); ls.Add(surface.At([end], [d]).Loss); }
        return LossBarrier.Of(ts, ls);
    }

    static string Csv(LandscapeResult r)
    {
        var sb = new StringBuilder();
        sb.Append(r.Dims == 1 ? "alpha" : "alpha,beta").Append(",train_loss,train_accuracy");
        if (r.Test is not null) sb.Append(",test_loss,test_accuracy");
        sb.Append('\n');
        static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        int columns = r.Betas?.Count ?? r.Alphas.Count;
        for (int i = 0; i < (r.Dims == 1 ? 1 : r.Alphas.Count); i++)
            for (int j = 0; j < columns; j++)
            {
                sb.Append(r.Dims == 1 ? F(r.Alphas[j]) : $"{F(r.Alphas[i])},{F(r.Betas![j])}");
                sb.Append(',').Append(F(r.Train.Loss[i][j])).Append(',').Append(F(r.Train.Accuracy[i][j]));
                if (r.Test is not null) sb.Append(',').Append(F(r.Test.Loss[i][j])).Append(',').Append(F(r.Test.Accuracy[i][j]));
                sb.Append('\n');
            }
        return sb.ToString();
    }
}

/// <summary>Reports on the caller's thread.</summary>
sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
