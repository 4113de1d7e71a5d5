using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Basin.Data;
using Basin.Gan;

namespace Basin.Experiments.Gan;

/// <summary>The λ-sensitivity study as the user states it: toy data, penalties × λ × seeds, and the training settings of every
/// run.</summary>
public sealed record GanComparisonSpec
{
    public string Dataset { get; init; } = "8gaussians";
    /// <summary>Any of lp, gp, clip.</summary>
    public string[] Penalties { get; init; } = ["clip", "gp", "lp"];
    public double[] Lambdas { get; init; } = [1, 10, 100];
    public long[] Seeds { get; init; } = [0, 1, 2];
    public int Iterations { get; init; } = 2000;
    public int CriticSteps { get; init; } = 5;
    public int WarmupIterations { get; init; } = 25;
    public int WarmupCriticSteps { get; init; } = 100;
    public int BatchSize { get; init; } = 256;
    public string Optimizer { get; init; } = "rmsprop";
    public double? LearningRate { get; init; }
    public int[]? Hidden { get; init; }
    public int Samples { get; init; } = 4096;
    /// <summary>Exact W1 every this many iterations (0: only at the end).</summary>
    public int EvaluationInterval { get; init; }
    public int EvaluationCount { get; init; } = 512;

    public WganComparisonConfig ToConfig()
    {
        var name = Dataset.ToLowerInvariant();
        if (name is not ("8gaussians" or "25gaussians" or "swissroll"))
            throw new BasinException($"unknown dataset '{Dataset}' for the GAN comparison (use 8gaussians, 25gaussians or swissroll)");
        if (Lambdas.Any(l => !(l >= 0) || !double.IsFinite(l))) throw new BasinException("lambda must be a finite number ≥ 0, got " +
            $"{string.Join(",", Lambdas)}");
        var regularizations = Penalties.Select(p => new GanJobSpec { Penalty = p }.Regularization).Distinct().ToArray();
        var optimizer = new GanJobSpec { Optimizer = Optimizer }.GanOptimizer;
        if (Hidden is { } h && (h.Length == 0 || h.Any(x => x < 1))) throw new BasinException("--hidden needs positive widths, got " +
            $"[{string.Join(",", h)}]");
        var training = new WganConfig(GeneratorIterations: Iterations, CriticSteps: CriticSteps, WarmupIterations: WarmupIterations,
            WarmupCriticSteps: WarmupCriticSteps, BatchSize: BatchSize, Optimizer: optimizer, LearningRate: LearningRate,
            ProgressInterval: EvaluationInterval > 0 ? EvaluationInterval : Math.Max(1, Iterations / 20),
            EvaluationInterval: EvaluationInterval > 0 ? EvaluationInterval : Iterations, EvaluationCount: EvaluationCount);
        training.Validate();
        return new WganComparisonConfig(name, regularizations, Lambdas, Seeds, training, Hidden, 2, Samples, EvaluationCount);
    }
}

public sealed record GanComparisonResult(string RunId, GanComparisonSpec Spec, IReadOnlyList<WganComparisonRow> Rows,
    IReadOnlyList<WganComparisonSummary> Summary)
{
    /// <summary>One line per run: penalty, λ, seed, W1 before and after, the critic's final estimate, divergence.</summary>
    public string RowsCsv()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("penalty,lambda,seed,initial_w1,final_w1,final_critic_estimate,diverged\n");
        foreach (var r in Rows)
            sb.Append(string.Join(",", GanComparisonJob.PenaltyName(r.Regularization), r.Lambda?.ToString(inv) ?? "", r.Seed.ToString(inv),
                r.InitialW1.ToString("R", inv), r.FinalW1.ToString("R", inv), r.FinalWassersteinEstimate.ToString("R", inv),
                r.Diverged ? "1" : "0")).Append('\n');
        return sb.ToString();
    }
}

public sealed record GanComparisonStarted(string RunId, int RunCount);

/// <summary>
/// Runs <see cref="WganComparison"/> as one recorded run (kind "gan-compare"): config, versions, one metrics row per
/// trained GAN (with its history), and the summary over seeds as the final figures.
/// </summary>
public static class GanComparisonJob
{
    public const string Kind = "gan-compare";

    public static string PenaltyName(LipschitzRegularization r) => r switch
    {
        LipschitzRegularization.LipschitzPenalty => "lp",
        LipschitzRegularization.GradientPenalty => "gp",
        _ => "clip",
    };

    public static GanComparisonResult Run(GanComparisonSpec spec, RunStore store, IProgress<object>? progress = null,
        CancellationToken ct = default, int? threads = null)
    {
        var config = spec.ToConfig();
        if (spec.Seeds.Length == 0 || spec.Penalties.Length == 0 || spec.Lambdas.Length == 0 && spec.Penalties.Any(p => p != "clip"))
            throw new BasinException("gan compare: the grid is empty (give at least one penalty, λ and seed)");
        if (threads is { } n) TorchSharp.torch.set_num_threads(n);
        var id = RunStore.NewRunId();
        Directory.CreateDirectory(store.RunFolder(id));
        store.Start(new RunRecord(id, Kind, DateTime.UtcNow, "mlp-gan", config.Dataset, spec.Seeds.FirstOrDefault(),
            JsonSerializer.Serialize(spec, Json.Options), JsonSerializer.Serialize(LibraryVersions.Current(), Json.Options)));
        int cells = config.EffectiveRegularizations.Sum(r =>
            r == LipschitzRegularization.WeightClipping ? 1 : config.EffectiveLambdas.Count) * config.EffectiveSeeds.Count;
        progress?.Report(new GanComparisonStarted(id, cells));
        try
        {
            var rows = WganComparison.Run(config, new Recording(store, id, progress), ct);
            var summary = WganComparison.Summarize(rows);
            store.Finish(id, RunStatus.Finished, summary);
            return new GanComparisonResult(id, spec, rows, summary);
        }
        catch (OperationCanceledException e)
        {
            store.Finish<object>(id, RunStatus.Cancelled, null, "cancelled; the finished runs of the grid are recorded");
            throw new OperationCanceledException($"cancelled; the finished runs of the grid are in run {id}", e, e.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            store.RecordFailure(id, e);   // any failure, not only bad input, leaves the run failed with its reason
            throw;
        }
    }

    sealed class Recording(RunStore store, string runId, IProgress<object>? inner) : IProgress<WganComparisonProgress>
    {
        public void Report(WganComparisonProgress value)
        {
            store.AddEpoch(runId, value.Run, value.Row);
            inner?.Report(value);
        }
    }
}
