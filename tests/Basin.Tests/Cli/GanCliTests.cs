using System.Diagnostics;
using System.Text.Json;
using Basin.Gan;
using Basin.IO;
using Basin.Experiments;
using Basin.Experiments.Gan;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin gan` end to end on tiny networks: records, checkpoints, plots, the λ grid, bad input, Ctrl+C and resume.</summary>
public class GanCliTests
{
    [Fact]
    public void RedirectedTrainingPrintsItsIterationsWithTheTimeLeft()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, Train());
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n').Where(l => l.StartsWith("gan 8gaussians: iteration ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"{i}/12"), lines.Select(l => l.Split(' ')[3]));
        // The mean pace of the iterations done so far gives the time left; the last has none left to say.
        Assert.All(lines[..^1], l => Assert.Matches(@"  about \d+ (s|min) left$", l));
        Assert.DoesNotContain("left", lines[^1]);
    }

    /// <summary>`basin gan train` on a small toy problem; <paramref name="overrides"/> are option/value pairs that replace or add options.</summary>
    static string[] Train(params string[] overrides)
    {
        var options = new List<(string Name, string Value)>
        {
            ("--data", "8gaussians"), ("--hidden", "16,16"), ("--iterations", "12"), ("--warmup", "2"), ("--warmup-critic-steps", "3"),
            ("--critic-steps", "2"), ("--batch-size", "32"), ("--samples", "256"), ("--eval-count", "64"), ("--seed", "4"), ("--threads", "1"),
            ("--progress-every", "4"),
        };
        var flags = new List<string>();
        for (int i = 0; i < overrides.Length; i++)
        {
            if (i + 1 >= overrides.Length || overrides[i + 1].StartsWith("--")) { flags.Add(overrides[i]); continue; }
            var name = overrides[i];
            options.RemoveAll(o => o.Name == name);
            options.Add((name, overrides[++i]));
        }
        return ["gan", "train", .. options.SelectMany(o => new[] { o.Name, o.Value }), .. flags];
    }

    static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void TrainRecordsTheRunThenInterpolateWritesPlotsAndJsonWithFixedEndpoints()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, Train("--eval-every", "6", "--checkpoint-every", "6", "--json"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var id = doc.RootElement.GetProperty("runId").GetString()!;
        var figures = doc.RootElement.GetProperty("figures");
        double w1 = figures.GetProperty("exactW1").GetDouble();
        Assert.True(w1 > 0 && w1 < 10, $"exact W1 {w1}");
        Assert.Equal(64, figures.GetProperty("evaluationCount").GetInt32());
        // Exact W1 was measured at iterations 6 and 12 only.
        var measured = doc.RootElement.GetProperty("history").EnumerateArray()
            .Where(h => h.GetProperty("exactW1").ValueKind == JsonValueKind.Number).Select(h => h.GetProperty("iteration").GetInt32());
        Assert.Equal([6, 12], measured);

        var runs = Path.Combine(dir, "runs");
        using (var store = RunStore.Open(runs))
        {
            var run = store.Get(id);
            Assert.Equal("gan", run.Summary.Kind);
            Assert.Equal(RunStatus.Finished, run.Summary.Status);
            Assert.Equal(w1, run.Summary.Final!.Value.GetProperty("exactW1").GetDouble());
            Assert.Equal("lp", run.Config.GetProperty("penalty").GetString());
            // The shared loop options (GanLoopOptions) reach the spec.
            Assert.Equal([12, 2, 2, 3, 32], new[] { "iterations", "criticSteps", "warmupIterations", "warmupCriticSteps", "batchSize" }.Select(n => run.Config.GetProperty(n).GetInt32()));
            Assert.Equal([16, 16], run.Config.GetProperty("hidden").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("rmsprop", run.Config.GetProperty("optimizer").GetString());
            Assert.Equal([4, 6, 8, 12], run.Epochs.Select(e => e.GetProperty("iteration").GetInt32()));
        }
        var folder = Path.Combine(runs, id);
        Assert.True(File.Exists(Path.Combine(folder, "gan.safetensors")));
        Assert.Contains(Path.Combine(folder, WganCheckpoint.FileName(12)), Directory.GetFiles(folder));

        var interp = CliRunner.Run(dir, null, "gan", "interpolate", id, "--method", "all", "--pairs", "3", "--steps", "4",
            "--geodesic-iterations", "5", "--seed", "2", "--threads", "1", "--json");
        Assert.True(interp.ExitCode == 0, interp.ToString());
        using var idoc = JsonDocument.Parse(interp.Stdout);
        var plots = idoc.RootElement.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal(["paths-linear.png", "paths-slerp.png", "paths-geodesic.png", "paths-realism-geodesic.png", "paths-paper.png", "paths-jacobian.png"],
            plots.Select(Path.GetFileName));
        foreach (var png in plots) Assert.Equal(PngSignature, File.ReadAllBytes(png).Take(8));

        using var results = JsonDocument.Parse(File.ReadAllText(idoc.RootElement.GetProperty("jsonPath").GetString()!));
        var paths = results.RootElement.GetProperty("paths").EnumerateArray().ToList();
        Assert.Equal(3 * 6, paths.Count);
        foreach (var p in paths)
        {
            Assert.Equal(0.0, p.GetProperty("endpointError").GetDouble());
            var s = p.GetProperty("scores");
            Assert.True(s.GetProperty("criticMin").GetDouble() <= s.GetProperty("criticMean").GetDouble());
            Assert.True(s.GetProperty("length").GetDouble() > 0);
            if (p.GetProperty("method").GetString() == "geodesic")
                Assert.True(p.GetProperty("finalEnergy").GetDouble() <= p.GetProperty("initialEnergy").GetDouble());
        }
        // Linear paths have the same endpoints as the geodesics of the same pair, so the same first and last samples:
        // the pull-back geodesic's energy is at most the straight line's (Adam keeps the best path, which starts as the line).
        foreach (var pair in paths.GroupBy(p => p.GetProperty("pair").GetInt32()))
        {
            double line = pair.Single(p => p.GetProperty("method").GetString() == "linear").GetProperty("scores").GetProperty("energy").GetDouble();
            double geo = pair.Single(p => p.GetProperty("method").GetString() == "geodesic").GetProperty("scores").GetProperty("energy").GetDouble();
            Assert.True(geo <= line * (1 + 1e-5), $"geodesic energy {geo} > linear {line}");
        }
    }

    [Fact]
    public void AnUnknownProbabilityMapIsAOneLineError()
    {
        var r = CliRunner.Run(CliRunner.TempDir(), null, "gan", "interpolate", "nope", "--method", "paper", "--probability-map", "rank");
        CliRunner.AssertOneLineError(r, "unknown probability map 'rank' (use standardized-sigmoid or sigmoid)");
        Assert.Equal(1, r.ExitCode);
    }

    [Fact]
    public void InterpolatingARunWithoutACriticIsAOneLineError()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, Train("--iterations", "2", "--warmup", "0", "--json"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var id = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("runId").GetString()!;
        // Keep the generator's tensors only, in every weights file of the run.
        foreach (var file in Directory.GetFiles(Path.Combine(dir, "runs", id), "*.safetensors"))
        {
            using var contents = SafeTensors.Load(file);
            SafeTensors.Save(file, contents.Tensors.Where(t => t.Key.StartsWith("generator.", StringComparison.Ordinal)), contents.Metadata);
        }
        var interp = CliRunner.Run(dir, null, "gan", "interpolate", id, "--method", "linear,paper", "--pairs", "1", "--threads", "1");
        CliRunner.AssertOneLineError(interp, $"GAN run {id} has no critic");
        Assert.Contains("paper optimize", interp.Stderr);
        Assert.Equal(1, interp.ExitCode);
    }

    [Fact]
    public void ImageGanReportsTheFrechetDistanceAndInterpolateWritesImageStripsWithConfidence()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 96, test: 32);
        var classifier = CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:16", "--epochs", "1", "--batch-size", "16", "--threads", "1", "--json");
        Assert.True(classifier.ExitCode == 0, classifier.ToString());
        var classifierId = JsonDocument.Parse(classifier.Stdout).RootElement.GetProperty("runId").GetString()!;

        var r = CliRunner.Run(dir, null, Train("--data", "fashion-mnist", "--data-path", data, "--samples", "96", "--width", "4", "--latent", "8",
            "--iterations", "3", "--warmup", "0", "--batch-size", "16", "--eval-count", "48", "--classifier", classifierId, "--json"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var figures = doc.RootElement.GetProperty("figures");
        Assert.True(figures.GetProperty("frechetDistance").GetDouble() > 0, r.Stdout);
        Assert.Equal(JsonValueKind.Null, figures.GetProperty("exactW1").ValueKind);
        Assert.StartsWith("conv-generator:8:w4", doc.RootElement.GetProperty("generator").GetString());
        // The finished run drew an 8×8 grid of its samples, 28×28 tiles at 2× with 2-pixel gaps: 8 · 58 + 2 = 466 pixels a side.
        var samples = File.ReadAllBytes(Path.Combine(dir, "runs", doc.RootElement.GetProperty("runId").GetString()!, GanJob.SamplesFile));
        Assert.Equal(PngSignature, samples.Take(8));
        Assert.Equal([0, 0, 1, 0xD2, 0, 0, 1, 0xD2], samples.Skip(16).Take(8).Select(b => (int)b));   // IHDR width, height

        var interp = CliRunner.Run(dir, null, "gan", "interpolate", doc.RootElement.GetProperty("runId").GetString()!, "--method", "linear,disc-geodesic,paper",
            "--pairs", "2", "--steps", "3", "--geodesic-iterations", "2", "--classifier", classifierId, "--threads", "1", "--json");
        Assert.True(interp.ExitCode == 0, interp.ToString());
        using var idoc = JsonDocument.Parse(interp.Stdout);
        var plots = idoc.RootElement.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal(["strip-linear.png", "strip-realism-geodesic.png", "strip-paper.png"], plots.Select(Path.GetFileName));
        foreach (var png in plots)
        {
            var bytes = File.ReadAllBytes(png);
            Assert.Equal(PngSignature, bytes.Take(8));
            // IHDR: 4 tiles of 56 px with 2 px gaps across, 2 rows down.
            Assert.Equal((4 * 58 + 2, 2 * 58 + 2), (BigEndian(bytes, 16), BigEndian(bytes, 20)));
        }
        foreach (var m in idoc.RootElement.GetProperty("summary").EnumerateArray())
        {
            double min = m.GetProperty("meanConfidenceMin").GetDouble(), mean = m.GetProperty("meanConfidenceMean").GetDouble();
            Assert.True(0.1 <= min && min <= mean && mean <= 1, m.ToString());
            Assert.Equal(0.0, m.GetProperty("maxEndpointError").GetDouble());
        }

        // --classifier must name a classifier: a GAN run is refused.
        var wrong = CliRunner.Run(dir, null, "gan", "interpolate", doc.RootElement.GetProperty("runId").GetString()!, "--pairs", "1",
            "--classifier", doc.RootElement.GetProperty("runId").GetString()!);
        CliRunner.AssertOneLineError(wrong, "not a classifier training run");
    }

    static int BigEndian(byte[] b, int at) => (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];

    [Fact]
    public void CompareRunsTheGridAndWritesCsv()
    {
        var dir = CliRunner.TempDir();
        var csv = Path.Combine(dir, "grid.csv");
        var r = CliRunner.Run(dir, null, "gan", "compare", "--data", "25gaussians", "--penalties", "clip,gp,lp", "--lambdas", "1,100", "--seeds", "0",
            "--iterations", "3", "--warmup", "0", "--critic-steps", "1", "--hidden", "8", "--batch-size", "16", "--samples", "64", "--eval-count", "32",
            "--threads", "1", "--csv", csv, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["clip/", "gp/1", "gp/100", "lp/1", "lp/100"],
            rows.Select(x => x.GetProperty("regularization").GetString() switch
            {
                "weight-clipping" => "clip", "gradient-penalty" => "gp", _ => "lp",
            } + "/" + (x.GetProperty("lambda").ValueKind == JsonValueKind.Null ? "" : x.GetProperty("lambda").GetDouble().ToString())));
        Assert.All(rows, x => Assert.True(x.GetProperty("finalW1").GetDouble() > 0));
        Assert.Equal(5, doc.RootElement.GetProperty("summary").GetArrayLength());
        var lines = File.ReadAllLines(csv);
        Assert.Equal("penalty,lambda,seed,initial_w1,final_w1,final_critic_estimate,diverged", lines[0]);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("gp,100,0,", lines[3]);
        using var store = RunStore.Open(Path.Combine(dir, "runs"));
        var run = store.Get(doc.RootElement.GetProperty("runId").GetString()!);
        Assert.Equal(("gan-compare", RunStatus.Finished, 5), (run.Summary.Kind, run.Summary.Status, run.Epochs.Count));
        // The shared loop options (GanLoopOptions) reach the spec, with compare's defaults where not given.
        Assert.Equal([3, 1, 0, 100, 16], new[] { "iterations", "criticSteps", "warmupIterations", "warmupCriticSteps", "batchSize" }.Select(n => run.Config.GetProperty(n).GetInt32()));
        Assert.Equal([8], run.Config.GetProperty("hidden").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("rmsprop", run.Config.GetProperty("optimizer").GetString());
    }

    [Theory]
    [InlineData("unknown penalty 'l2'", "--penalty", "l2")]
    [InlineData("unknown dataset 'mnist'", "--data", "mnist")]
    [InlineData("lambda must be a finite number ≥ 0", "--lambda", "-1")]
    public void BadTrainOptionsAreOneLineErrorsAndRecordNothing(string cause, string option, string value)
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, Train(option, value));
        CliRunner.AssertOneLineError(r, cause);
        using var store = RunStore.Open(Path.Combine(dir, "runs"));
        Assert.Empty(store.List());
    }

    [Fact]
    public void DivergingCriticIsAOneLineErrorAndTheRunIsRecordedAsFailed()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, Train("--lr", "1e30"));
        CliRunner.AssertOneLineError(r, "diverged");
        using var store = RunStore.Open(Path.Combine(dir, "runs"));
        var run = Assert.Single(store.List());
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("NaN", run.Message);

        // A failed GAN run has no networks to interpolate; and a run that is not a GAN is refused by name.
        var noNets = CliRunner.Run(dir, null, "gan", "interpolate", run.Id, "--pairs", "1");
        CliRunner.AssertOneLineError(noNets, "no trained networks");
        var compare = CliRunner.Run(dir, null, "gan", "compare", "--penalties", "lp", "--lambdas", "1", "--seeds", "0", "--iterations", "1",
            "--warmup", "0", "--critic-steps", "1", "--hidden", "4", "--batch-size", "8", "--samples", "16", "--eval-count", "8", "--threads", "1", "--json");
        Assert.True(compare.ExitCode == 0, compare.ToString());
        var compareId = JsonDocument.Parse(compare.Stdout).RootElement.GetProperty("runId").GetString()!;
        var notGan = CliRunner.Run(dir, null, "gan", "interpolate", compareId);
        CliRunner.AssertOneLineError(notGan, "not a GAN run");
    }

    [Fact]
    public void CtrlCWritesACheckpointMarksTheRunCancelledAndResumeFinishesIt()
    {
        // Enough iterations that a loaded machine cannot finish the run between the progress line and SIGINT.
        const int Iterations = 5000;
        var dir = CliRunner.TempDir();
        using var p = CliRunner.Start(dir, null, Train("--iterations", Iterations.ToString(), "--progress-every", "50", "--checkpoint-every", "100000"));
        var runs = Path.Combine(dir, "runs");
        // Wait until training is under way (the progress line of iteration 50), then send SIGINT.
        string? line;
        while ((line = p.StandardOutput.ReadLine()) != null && !line.Contains("iteration 50/")) { }
        Assert.False(p.HasExited, "run ended before it could be interrupted");
        CliRunner.Interrupt(p);
        Assert.True(p.WaitForExit(60_000), "run did not stop after SIGINT");
        Assert.Equal(130, p.ExitCode);
        Assert.Contains("resume with 'basin gan train --resume", p.StandardError.ReadToEnd());

        string id;
        using (var store = RunStore.Open(runs))
        {
            var run = Assert.Single(store.List());
            Assert.Equal(RunStatus.Cancelled, run.Status);
            id = run.Id;
        }
        // The only checkpoint is the one written on Ctrl+C (the interval is longer than the run).
        var checkpoint = Assert.Single(Directory.GetFiles(Path.Combine(runs, id), "wgan-*.safetensors"));
        int stoppedAt = int.Parse(Path.GetFileNameWithoutExtension(checkpoint)["wgan-".Length..]);
        Assert.InRange(stoppedAt, 50, 1499);
        using (var ck = SafeTensors.Load(checkpoint)) Assert.Equal(stoppedAt.ToString(), ck.Metadata["iteration"]);

        var resumed = CliRunner.Run(dir, null, "gan", "train", "--resume", id, "--threads", "1", "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        using var doc = JsonDocument.Parse(resumed.Stdout);
        var iterations = doc.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("iteration").GetInt32()).ToList();
        Assert.True(iterations[0] > stoppedAt && iterations[^1] == Iterations, string.Join(",", iterations));
        Assert.True(doc.RootElement.GetProperty("figures").GetProperty("exactW1").GetDouble() > 0);
        using var store2 = RunStore.Open(runs);
        Assert.Equal(RunStatus.Finished, store2.Get(id).Summary.Status);
        var again = CliRunner.Run(dir, null, "gan", "train", "--resume", id);
        CliRunner.AssertOneLineError(again, "already finished");

        // The checkpoint holds the optimizers' moments and the random state, so the interrupted-and-resumed run ends with
        // exactly the networks of an uninterrupted run with the same options.
        var straightDir = CliRunner.TempDir();
        var straight = CliRunner.Run(straightDir, null, Train("--iterations", Iterations.ToString(), "--progress-every", "50", "--checkpoint-every", "100000", "--json"));
        Assert.True(straight.ExitCode == 0, straight.ToString());
        var straightWeights = JsonDocument.Parse(straight.Stdout).RootElement.GetProperty("weightsPath").GetString()!;
        using var expected = SafeTensors.Load(straightWeights);
        using var actual = SafeTensors.Load(doc.RootElement.GetProperty("weightsPath").GetString()!);
        Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
        foreach (var (name, tensor) in expected.Tensors)
            Assert.True(tensor.eq(actual.Tensors[name]).all().item<bool>(), $"{name} differs after resume");
    }
}
