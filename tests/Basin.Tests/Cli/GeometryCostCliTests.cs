using System.Diagnostics;
using System.Text.Json;
using Basin.Experiments.Geometry;
using Basin.Tests.Curvature;
using TorchSharp;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin geometry` bounds its cost before it starts: printed when long; over 10 min it asks for --yes at a terminal.</summary>
public class GeometryCostCliTests
{
    sealed class Stopped : Exception;

    /// <summary>The bound the job hands to its approver for <paramref name="spec"/>, on LeNet-5; the approver stops the job.</summary>
    static MeasureCost Cost(MeasureSpec spec)
    {
        using var model = PyTorchCrossCheckTests.Model(torch.ScalarType.Float32);
        using var data = PyTorchCrossCheckTests.Data();
        MeasureCost? seen = null;
        var progress = new List<MeasureProgress>();
        Assert.Throws<Stopped>(() => MeasureJob.Measure(model, data, spec, progress: new Progress(progress),
            approve: c => { seen = c; throw new Stopped(); }));
        Assert.Empty(progress);   // asked before the first measure
        return seen!;
    }

    sealed class Progress(List<MeasureProgress> seen) : IProgress<MeasureProgress>
    {
        public void Report(MeasureProgress value) => seen.Add(value);
    }

    static long Products(MeasureCost c, string layer, string measure) =>
        c.Pairs.Single(p => p.Layer == layer && p.Measure == measure).Products;

    [Fact]
    public void TheBoundCountsTheMostProductsOfEachPairAndTheHeadIsFree()
    {
        var c = Cost(new MeasureSpec { Layer = "all", Measures = GeometryMeasures.All });
        // conv1 has 150 weights: κ by the exact block (150 products) and the exact trace (150 ≤ the 200-probe limit).
        Assert.Equal(150, Products(c, "conv1", GeometryMeasures.RelativeFlatness));
        Assert.Equal(150, Products(c, "conv1", GeometryMeasures.HessianTrace));
        // conv2 has 2,400: the estimator and Hutchinson, each up to 200 probes.
        Assert.Equal(200, Products(c, "conv2", GeometryMeasures.RelativeFlatness));
        Assert.Equal(200, Products(c, "conv2", GeometryMeasures.HessianTrace));
        Assert.Equal(100, Products(c, "conv2", GeometryMeasures.TopEigen));            // Lanczos' step limit
        Assert.Equal(100, Products(c, "conv2", GeometryMeasures.GaussNewtonTop));
        Assert.Equal(100, Products(c, "conv2", GeometryMeasures.Outliers));             // max(100, 3·min(2400, 3·10 classes))
        Assert.Equal(90, Products(c, "conv2", GeometryMeasures.Density));               // 1 run × 90 steps
        Assert.Equal(20, Products(c, "conv2", GeometryMeasures.FeatureRobustness));     // 20 matrices × 3 δ forward passes / 3
        foreach (var m in GeometryMeasures.All.Where(m => m != GeometryMeasures.FeatureRobustness))
            Assert.Equal(0, Products(c, "fc3", m));                                     // the head's closed forms
        Assert.DoesNotContain(c.Pairs, p => p.Layer == MeasureJob.AllParameters && GeometryMeasures.LayerOnly(p.Measure));
        Assert.True(c.SecondsPerProduct > 0);
        Assert.Equal(c.Pairs.Sum(p => p.Products) * c.SecondsPerProduct, c.Seconds, 12);

        // --hutchinson makes every trace an estimate (the head's too); --max-probes bounds it.
        var h = Cost(new MeasureSpec { Layer = "conv1", Measures = [GeometryMeasures.HessianTrace], Hutchinson = true, MaxProbes = 7 });
        Assert.Equal(7, h.Products);
        Assert.Equal(7 + 4, Cost(new MeasureSpec { Layer = "conv1", Measures = [GeometryMeasures.HessianTrace], Hutchinson = true,
            MaxProbes = 7, TraceSketch = 4 }).Products);
        var head = Cost(new MeasureSpec());
        Assert.Equal(0, head.Products);
        Assert.Equal(0, head.SecondsPerProduct);   // nothing to time
    }

    static readonly string[] Long = ["geometry", "--weights", PyTorchCrossCheckTests.Weights, "--model", "lenet5", "--layer", "conv1",
        "--measures", "hessian-trace-weight", "--hutchinson", "--max-probes", "100000", "--samples", "64", "--threads", "1"];

    [Fact]
    public void ATraceSketchDeflatesHutchinsonAndANegativeOneIsRefused()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 64, test: 8);
        string[] args = ["geometry", "--weights", PyTorchCrossCheckTests.Weights, "--model", "lenet5", "--layer", "fc2", "--measures",
            "hessian-trace-weight", "--hutchinson", "--samples", "64", "--threads", "1", "--data", data, "--json"];
        var r = CliRunner.Run(dir, null, [.. args, "--trace-sketch", "6"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var trace = doc.RootElement.GetProperty("layers")[0].GetProperty("hessianTrace");
        Assert.Equal("deflated-hutchinson", trace.GetProperty("method").GetString());
        Assert.Equal(6 + trace.GetProperty("probes").GetInt32(), trace.GetProperty("products").GetInt64());
        var bad = CliRunner.Run(dir, null, [.. args, "--trace-sketch", "-1"]);
        CliRunner.AssertOneLineError(bad, "--trace-sketch must be at least 0, got -1");
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void OffATerminalALongMeasurementPrintsItsEstimateAndGoesAhead()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 64, test: 8);
        var r = CliRunner.Run(dir, null, [.. Long, "--data", data, "--json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"^estimate: at most about [\d.]+ (min|h) \(100,000 Hessian-vector products at [\d.]+ s each; ", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("hutchinson", doc.RootElement.GetProperty("layers")[0].GetProperty("hessianTrace").GetProperty("method").GetString());
    }

    [Fact]
    public void AtATerminalALongMeasurementAsksForYes()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 64, test: 8);
        var asked = InTerminal(dir, [.. Long, "--data", data]);
        Assert.Equal(1, asked.ExitCode);
        Assert.Matches(@"basin: error: this may take at most about [\d.]+ (min|h) \(100,000 Hessian-vector products at [\d.]+ s each; " +
            @"the estimators usually stop sooner\), over 10 min: pass --yes to go ahead", asked.Output.ReplaceLineEndings(""));
        Assert.DoesNotContain("Hessian trace", asked.Output);   // nothing was measured

        var yes = InTerminal(dir, [.. Long, "--data", data, "--yes"]);
        Assert.True(yes.ExitCode == 0, yes.Output);
        Assert.Contains("estimate: at most about", yes.Output);
        Assert.Contains("Hessian trace", yes.Output);
        // A short measurement (the head's closed forms) neither prints an estimate nor asks.
        var head = InTerminal(dir, ["geometry", "--weights", PyTorchCrossCheckTests.Weights, "--model", "lenet5", "--data", data,
            "--samples", "64", "--threads", "1"]);
        Assert.True(head.ExitCode == 0, head.Output);
        Assert.DoesNotContain("estimate", head.Output);
    }

    /// <summary>Runs the CLI on a pseudo-terminal (util-linux `script`), as someone at a terminal would.</summary>
    static (int ExitCode, string Output) InTerminal(string dir, string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Basin.Cli.dll");
        var command = string.Join(' ', new[] { "dotnet", dll }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        var psi = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.Environment["BASIN_RUNS"] = Path.Combine(dir, "runs");
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["COLUMNS"] = "200";
        psi.Environment["TERM"] = "xterm";
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000), "basin did not finish on the terminal");
        p.WaitForExit();
        return (p.ExitCode, output.Result + error.Result);
    }
}
