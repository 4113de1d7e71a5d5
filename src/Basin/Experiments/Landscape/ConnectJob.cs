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

/// <summary>What `basin connect` does: train a curve between two recorded runs and compare it with the straight line.</summary>
public sealed record ConnectSpec
{
    public required string RunA { get; init; }
    public required string RunB { get; init; }
    public CurveKind Curve { get; init; } = CurveKind.Bezier;
    public CurveTrainingOptions Training { get; init; } = new();
    /// <summary>Permute B's hidden units to match A first (weight matching; MLPs).</summary>
    public bool Align { get; init; }
    /// <summary>Training examples (the first N) the curve is trained and evaluated on.</summary>
    public long Samples { get; init; } = 10_000;
    /// <summary>Test examples the paths are also evaluated on (0: none).</summary>
    public long TestSamples { get; init; } = 2000;
    /// <summary>Values of t in [0, 1] the paths are evaluated at.</summary>
    public int Points { get; init; } = 21;
    public int ChunkSize { get; init; } = 2000;
    public string? Output { get; init; }

    public void Check()
    {
        if (Samples < 1) throw new BasinException($"--samples must be at least 1, got {Samples}");
        if (TestSamples < 0) throw new BasinException($"--test-samples must be ≥ 0, got {TestSamples}");
        if (Points < 2) throw new BasinException($"--points must be at least 2, got {Points}");
        if (ChunkSize < 1) throw new BasinException($"--chunk must be at least 1, got {ChunkSize}");
    }
}

/// <summary>The straight line and the trained curve between two runs, on train (and test) data, each with both barriers.</summary>
public sealed record ConnectResult(string RunA, string RunB, string Model, string Dataset, string CurveKind, Alignment? Alignment,
    CurveTrainingOptions Training, long TrainExamples, long TestExamples, IReadOnlyList<CurveEpoch> Epochs,
    PathProfile Line, PathProfile Curve, PathProfile? LineTest, PathProfile? CurveTest, string OutputFolder, IReadOnlyList<string> Files,
    double Seconds);

/// <summary>
/// `basin connect`: loads two recorded runs of one architecture, optionally aligns B's hidden units to A, evaluates the straight line,
/// trains the control point of a Bézier curve or polygonal chain ("Loss Surfaces, Mode Connectivity, and Fast Ensembling of DNNs",
/// Garipov et al. 2018) and evaluates it at the same t; barriers are on the plain cross-entropy. Writes connect.csv, connect.json and
/// connect.png.
/// </summary>
public static class ConnectJob
{
    public static ConnectResult Run(ConnectSpec spec, RunStore store, IProgress<LandscapeProgress>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Check();
        var clock = Stopwatch.StartNew();
        var sa = ModelSource.Resolve(spec.RunA, store, null, null, null, null);
        var sb = ModelSource.Resolve(spec.RunB, store, null, null, null, null);
        string idA = LandscapeJob.RunIdOf(sa), idB = LandscapeJob.RunIdOf(sb);
        if (!string.Equals(sa.Dataset, sb.Dataset, StringComparison.OrdinalIgnoreCase))
            throw new BasinException($"run {idB} was trained on {sb.Dataset} but run {idA} on {sa.Dataset}");
        if (sa.Model != sb.Model)
            throw new BasinException($"runs {idA} ({sa.Model}) and {idB} ({sb.Model}) have different architectures");
        using var train = sa.LoadData(Split.Train, spec.Samples, atMost: true);
        using var test = spec.TestSamples > 0 ? sa.LoadData(Split.Test, spec.TestSamples, atMost: true) : null;
        using var a = sa.LoadModel(train);
        using var b = sb.LoadModel(train);
        Directions.CheckSameArchitecture(a, b, $"run {idA}", $"run {idB}");
        if (a.buffers().Any())
            throw new BasinException($"{a.Spec} has batch-norm statistics; curves between such models need them re-estimated at every t, " +
                "which is not supported yet");
        var alignment = spec.Align ? WeightMatching.Align(a, b) : null;

        var ts = Slices.Grid(0, 1, spec.Points);
        SyncProgress<SliceProgress> Phase(string name) => new(p => progress?.Report(new LandscapeProgress(name, p.Done, p.Of)));
        var line = Interpolation.Line(a, b, train, ts, spec.ChunkSize, Phase("line, train"), ct);
        var lineTest = test is null ? null : Interpolation.Line(a, b, test, ts, spec.ChunkSize, Phase("line, test"), ct);
        using var curve = new Curve(spec.Curve, a.parameters().ToArray(), b.parameters().ToArray());
        using var work = sa.LoadModel(train);
        var epochs = CurveTraining.Train(curve, work, train, spec.Training,
            new SyncProgress<CurveEpoch>(e => progress?.Report(new LandscapeProgress($"training the curve (loss {e.MeanLoss:G4})", e.Epoch,
            spec.Training.Epochs))), ct);
        var curveTrain = CurveTraining.Profile(curve, work, train, ts, spec.ChunkSize, Phase("curve, train"), ct);
        var curveTest = test is null ? null : CurveTraining.Profile(curve, work, test, ts, spec.ChunkSize, Phase("curve, test"), ct);

        var kind = spec.Curve == CurveKind.Bezier ? "bezier" : "polychain";
        var folder = spec.Output ?? Path.Combine(store.RunFolder(idA),
            $"connect-{kind}-{idB}{(spec.Align ? "-aligned" : "")}-seed{spec.Training.Seed}");
        Directory.CreateDirectory(folder);
        var result = new ConnectResult(idA, idB, a.Spec, sa.Dataset, kind, alignment, spec.Training, train.Count, test?.Count ?? 0, epochs,
            line, curveTrain, lineTest, curveTest, folder, [], 0);
        var csv = Path.Combine(folder, "connect.csv");
        var png = Path.Combine(folder, "connect.png");
        var json = Path.Combine(folder, "connect.json");
        AtomicFile.WriteAllText(csv, Csv(result));
        LandscapePlots.SavePaths(result, png);
        var weights = Path.Combine(folder, "control.safetensors");
        SaveControl(curve, work, weights, a.Spec);
        result = result with { Files = [csv, png, json, weights], Seconds = clock.Elapsed.TotalSeconds };
        AtomicFile.WriteAllText(json, Json.Serialize(result));
        return result;
    }

    // θ_C as a weights file of the model, so it can be measured like any other weights.
    static void SaveControl(Curve curve, Classifier work, string path, string spec)
    {
        using (torch.no_grad())
            foreach (var (p, c) in work.parameters().Zip(curve.Control)) p.copy_(c);
        Weights.Save(work, path, new Dictionary<string, string> { ["basin.spec"] = spec });
    }

    static string Csv(ConnectResult r)
    {
        static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        var sb = new StringBuilder("t,line_train_loss,line_train_accuracy,curve_train_loss,curve_train_accuracy");
        if (r.LineTest is not null) sb.Append(",line_test_loss,line_test_accuracy,curve_test_loss,curve_test_accuracy");
        sb.Append('\n');
        for (int i = 0; i < r.Line.Ts.Count; i++)
        {
            sb.Append(F(r.Line.Ts[i])).Append(',').Append(F(r.Line.Loss[i])).Append(',').Append(F(r.Line.Accuracy[i]))
              .Append(',').Append(F(r.Curve.Loss[i])).Append(',').Append(F(r.Curve.Accuracy[i]));
            if (r.LineTest is not null)
                sb.Append(',').Append(F(r.LineTest.Loss[i])).Append(',').Append(F(r.LineTest.Accuracy[i]))
                  .Append(',').Append(F(r.CurveTest!.Loss[i])).Append(',').Append(F(r.CurveTest.Accuracy[i]));
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
