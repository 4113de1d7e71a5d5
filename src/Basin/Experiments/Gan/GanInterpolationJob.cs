using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using Basin.Gan;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;
using Generator = Basin.Gan.Generator;

namespace Basin.Experiments.Gan;

/// <summary>Which latent paths to draw and score for a trained GAN run.</summary>
public sealed record GanInterpolationSpec
{
    public required string Run { get; init; }
    /// <summary>Any of <see cref="GanInterpolationJob.MethodNames"/> (disc-geodesic is accepted for realism-geodesic), or all.</summary>
    public string[] Methods { get; init; } = [.. GanInterpolationJob.MethodNames];
    public int Pairs { get; init; } = 50;
    /// <summary>Segments T per path (T + 1 points).</summary>
    public int Steps { get; init; } = 16;
    public long Seed { get; init; }
    public int GeodesicIterations { get; init; } = 200;
    public double GeodesicLearningRate { get; init; } = 1e-2;
    /// <summary>β of the realism weight h (see <see cref="RealismWeight"/>).</summary>
    public double Beta { get; init; } = 1;
    /// <summary>paper and jacobian: degree K of the polynomial paths (see <see cref="PolynomialPathConfig"/>).</summary>
    public int Degree { get; init; } = 6;
    /// <summary>paper: how the critic's scores become the probability D (see <see cref="CriticProbability"/>).</summary>
    public ProbabilityMap ProbabilityMap { get; init; } = ProbabilityMap.StandardizedSigmoid;
    /// <summary>paper and jacobian: the out-of-domain penalty's bound b on |z_j| and its weight (0: off).</summary>
    public double LatentBound { get; init; } = 3;
    public double OutOfDomainWeight { get; init; } = 1;
    /// <summary>A classifier (train run id or weights file) whose confidence is measured along fashion-mnist paths.</summary>
    public string? Classifier { get; init; }
    /// <summary>Output folder (default: RUNS/RUN/interpolation-seedS).</summary>
    public string? Output { get; init; }
    /// <summary>Paths drawn in each plot or image strip.</summary>
    public int PlotPairs { get; init; } = 8;
}

/// <summary>One path: its scores and, for the geodesics, the optimized energy before and after.
/// <paramref name="EndpointError"/> is the largest |z_0 − a| and |z_T − b| over coordinates (0 when the endpoints stayed
/// fixed).</summary>
public sealed record PathRow(int Pair, string Method, PathScores Scores, double? InitialEnergy, double? FinalEnergy, double EndpointError);

/// <summary>A method's scores averaged over the pairs.</summary>
public sealed record MethodSummary(string Method, int Pairs, double MeanLength, double MeanEnergy, double MeanCriticMin,
    double MeanCriticMean, double? MeanConfidenceMin, double? MeanConfidenceMean, double MaxEndpointError);

public sealed record GanInterpolationResult(string RunId, string Dataset, string OutputFolder, string JsonPath, RealismWeight Realism,
    CriticProbability Probability,
    IReadOnlyList<MethodSummary> Summary, IReadOnlyList<string> Plots, IReadOnlyList<PathRow> Paths);

public sealed record InterpolationStep(int Done, int Of);

/// <summary>
/// Latent interpolation on a recorded GAN run: the same seeded endpoint pairs z_0, z_1 ~ N(0, I) for every method, each
/// path scored by <see cref="LatentPaths.Score"/>. Methods: linear, slerp, the pull-back geodesic (geodesic), Basin's
/// realism-weighted geodesic (realism-geodesic, <see cref="RealismWeight"/>), and the authors' discriminator-aware geodesic
/// (paper) with its Jacobian baseline (jacobian), see <see cref="PaperGeodesic"/>. Each run writes results.json, a path plot per method
/// (toy data: the real points with the paths' samples G(z_t)) or an image strip per method (fashion-mnist: one row of G(z_t) per pair).
/// </summary>
public static class GanInterpolationJob
{
    public static readonly string[] MethodNames = ["linear", "slerp", "geodesic", "realism-geodesic", "paper", "jacobian"];

    /// <summary>The name Basin's realism-weighted geodesic had before the authors' method was added.</summary>
    public const string FormerRealismName = "disc-geodesic";

    static readonly string[] CriticMethods = ["realism-geodesic", "paper"];

    public static GanInterpolationResult Run(GanInterpolationSpec spec, RunStore store, IProgress<object>? progress = null,
        CancellationToken ct = default, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var methods = spec.Methods.Select(m => m.ToLowerInvariant()).Select(m => m == FormerRealismName ? "realism-geodesic" : m)
            .SelectMany(m => m == "all" ? MethodNames : [m]).Distinct().ToArray();
        foreach (var m in methods)
            if (!MethodNames.Contains(m)) throw new BasinException($"unknown interpolation method '{m}' (use " +
                $"{string.Join(", ", MethodNames)} or all)");
        if (spec.Pairs < 1) throw new BasinException($"--pairs must be at least 1, got {spec.Pairs}");
        if (spec.PlotPairs < 0) throw new BasinException($"plot pairs must be ≥ 0, got {spec.PlotPairs}");
        if (!(spec.Beta >= 0) || !double.IsFinite(spec.Beta)) throw new BasinException("--beta must be a finite number " +
            $"≥ 0, got {spec.Beta}");
        var geodesic = new GeodesicConfig(spec.Steps, spec.GeodesicIterations, spec.GeodesicLearningRate);
        // Checked when built, so built only when a method uses it (it needs at least 2 steps, the others 1).
        var polynomial = methods.Contains("paper") || methods.Contains("jacobian")
            ? new PolynomialPathConfig(spec.Steps, spec.Degree, spec.GeodesicIterations, spec.GeodesicLearningRate,
                LatentBound: spec.LatentBound, OutOfDomainWeight: spec.OutOfDomainWeight)
            : null;
        if (threads is { } n) torch.set_num_threads(n);

        var details = store.Get(spec.Run);
        var gan = GanJob.ReadSpec(details);
        var id = details.Summary.Id;
        var folder = store.RunFolder(id);
        var weights = Path.Combine(folder, GanJob.WeightsFile);
        if (!File.Exists(weights)) weights = GanJob.LatestCheckpoint(folder)
            ?? throw new BasinException($"GAN run {id} has no trained networks in {folder} (status {details.Summary.Status})");
        if (spec.Classifier is not null && !gan.IsImage) throw new BasinException("--classifier applies to fashion-mnist GANs only");
        CheckCritic(id, weights, methods);

        var (generator, critic) = gan.CreateNetworks();
        using (generator)
        using (critic)
        using (var classifier = spec.Classifier is null ? null : GanClassifier.Load(spec.Classifier, store, [1, 28, 28]))
        using (var real = LoadCalibrationData(gan))
        {
            WganCheckpoint.Load(weights, generator, critic);
            generator.eval();
            critic.eval();
            var realism = RealismWeight.Calibrate(critic.forward, real, spec.Beta);
            var probability = CriticProbability.Calibrate(critic.forward, real, spec.ProbabilityMap);
            var output = spec.Output ?? Path.Combine(folder, $"interpolation-seed{spec.Seed}");
            Directory.CreateDirectory(output);

            using var random = new torch.Generator(unchecked((ulong)spec.Seed));
            using var z0s = generator.SampleLatent(spec.Pairs, random);
            using var z1s = generator.SampleLatent(spec.Pairs, random);
            var rows = new List<PathRow>();
            var drawn = methods.ToDictionary(m => m, _ => new List<Tensor>());
            Func<Tensor, Tensor>? confidence = classifier is null ? null : classifier.forward;
            int total = spec.Pairs * methods.Length, done = 0;
            try
            {
                for (int p = 0; p < spec.Pairs; p++)
                {
                    using var a = z0s[p].clone();
                    using var b = z1s[p].clone();
                    foreach (var method in methods)
                    {
                        ct.ThrowIfCancellationRequested();
                        double? initial = null, final = null;
                        Tensor path;
                        switch (method)
                        {
                            case "linear": path = LatentPaths.Linear(a, b, spec.Steps); break;
                            case "slerp": path = LatentPaths.Spherical(a, b, spec.Steps); break;
                            case "geodesic":
                                {
                                    var g = LatentPaths.Geodesic(generator.forward, a, b, geodesic, cancellationToken: ct);
                                    (path, initial, final) = (g.Path, g.InitialEnergy, g.FinalEnergy);
                                    break;
                                }
                            case "realism-geodesic":
                                {
                                    var g = LatentPaths.RealismWeightedGeodesic(generator.forward, critic.forward, realism, a, b, geodesic,
                                        cancellationToken: ct);
                                    (path, initial, final) = (g.Path, g.InitialEnergy, g.FinalEnergy);
                                    break;
                                }
                            case "paper":
                                {
                                    var g = PaperGeodesic.DiscriminatorAware(generator.forward, critic.forward, probability, a, b,
                                        polynomial!, cancellationToken: ct);
                                    (path, initial, final) = (g.Path, g.InitialEnergy, g.FinalEnergy);
                                    break;
                                }
                            default:
                                {
                                    var g = PaperGeodesic.Jacobian(generator.forward, a, b, polynomial!, cancellationToken: ct);
                                    (path, initial, final) = (g.Path, g.InitialEnergy, g.FinalEnergy);
                                    break;
                                }
                        }
                        var scores = LatentPaths.Score(generator.forward, path, critic.forward, confidence);
                        double endpointError;
                        using (var e0 = (path[0] - a).abs().max())
                        using (var e1 = (path[path.shape[0] - 1] - b).abs().max())
                            endpointError = Math.Max(e0.item<float>(), e1.item<float>());
                        rows.Add(new PathRow(p, method, scores, initial, final, endpointError));
                        if (p < spec.PlotPairs) drawn[method].Add(path);
                        else path.Dispose();
                        progress?.Report(new InterpolationStep(++done, total));
                    }
                }

                var plots = new List<string>();
                foreach (var method in methods)
                {
                    if (drawn[method].Count == 0) continue;
                    plots.Add(gan.IsImage
                        ? GanPlots.ImageStrip(Path.Combine(output, $"strip-{method}.png"), generator, drawn[method])
                        : GanPlots.PathPlot(Path.Combine(output, $"paths-{method}.png"), $"{gan.Dataset}: {method} paths", generator,
                            real, drawn[method]));
                }
                var summary = methods.Select(m => Summarize(m, rows.Where(r => r.Method == m).ToList())).ToList();
                var jsonPath = Path.Combine(output, "results.json");
                var result = new GanInterpolationResult(id, gan.Dataset.ToLowerInvariant(), output, jsonPath, realism, probability, summary,
                    plots, rows);
                Basin.IO.AtomicFile.WriteAllText(jsonPath, Json.Serialize(result));
                return result;
            }
            finally
            {
                foreach (var list in drawn.Values) foreach (var t in list) t.Dispose();
            }
        }
    }

    /// <summary>Every path is scored by the critic, and realism-geodesic and paper optimize against it: a file without one is an
    /// error.</summary>
    static void CheckCritic(string id, string weights, IReadOnlyList<string> methods)
    {
        using var file = Basin.IO.SafeTensors.Load(weights);
        if (file.Tensors.Keys.Any(k => k.StartsWith("critic.", StringComparison.Ordinal))) return;
        var needing = methods.Where(CriticMethods.Contains).ToArray();
        throw new BasinException($"GAN run {id} has no critic in {Path.GetFileName(weights)}: interpolation scores every " +
            "path with the critic" + (needing.Length > 0 ? $", and {string.Join(" and ", needing)} optimize against it" : ""));
    }

    static Tensor LoadCalibrationData(GanJobSpec gan)
    {
        // The realism weight's reference needs a few thousand real samples, not the whole training set.
        var limited = gan.IsImage ? gan with { Samples = Math.Min(gan.Samples ?? 2000, 2000) } : gan;
        return limited.LoadReal();
    }

    static MethodSummary Summarize(string method, List<PathRow> rows)
    {
        double? Mean(Func<PathRow, double?> f) => rows.All(r => f(r) is not null) ? rows.Average(r => f(r)!.Value) : null;
        return new MethodSummary(method, rows.Count, rows.Average(r => r.Scores.Length), rows.Average(r => r.Scores.Energy),
            rows.Average(r => r.Scores.CriticMin), rows.Average(r => r.Scores.CriticMean),
            Mean(r => r.Scores.ConfidenceMin), Mean(r => r.Scores.ConfidenceMean), rows.Max(r => r.EndpointError));
    }
}
