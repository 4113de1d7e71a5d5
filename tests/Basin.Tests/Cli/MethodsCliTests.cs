using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>`basin train --method ...` end to end on small generated data: runs, recorded extras, one-line errors.</summary>
public class MethodsCliTests
{
    /// <summary>`basin train` with small defaults; <paramref name="extra"/> adds options or replaces a default's value.</summary>
    static string[] Train(string data, params string[] extra)
    {
        var defaults = new List<string> { "--data", data, "--model", "mlp:16", "--epochs", "2", "--batch-size", "16", "--threads", "1", "--seed", "3" };
        for (int i = 0; i + 1 < extra.Length; i++)
        {
            int at = extra[i].StartsWith("--") ? defaults.IndexOf(extra[i]) : -1;
            if (at >= 0) defaults.RemoveRange(at, 2);
        }
        return ["train", .. defaults, .. extra];
    }

    [Theory]
    [InlineData("unknown method 'sharp'", "--method", "sharp")]
    [InlineData("--rhoo", "--method", "sam", "--rhoo", "1")]
    [InlineData("sam and m3 both decide how the gradient is computed", "--method", "sam+m3")]
    [InlineData("--rho must be a finite number > 0", "--method", "sam", "--rho", "0")]
    [InlineData("--fam-lambda must be a finite number ≥ 0", "--method", "fam", "--fam-lambda", "-0.5")]
    [InlineData("--saf-lambda must be a finite number ≥ 0", "--method", "saf", "--saf-lambda", "-1")]
    [InlineData("FAM layer 'fc7' does not exist", "--method", "fam", "--fam-layer", "fc7")]
    [InlineData("not a linear layer", "--method", "fam", "--model", "lenet5", "--fam-layer", "conv2")]
    [InlineData("--mesa-decay must be in [0, 1)", "--method", "mesa", "--mesa-decay", "1")]
    [InlineData("--temperature must be a finite number ≥ 0", "--method", "sgld", "--temperature", "-1")]
    public void BadMethodOptionsEndInOneLineAndRecordNoRun(string cause, params string[] extra)
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, Train(data, extra));
        CliRunner.AssertOneLineError(r, cause);
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")) && Directory.EnumerateDirectories(Path.Combine(dir, "runs")).Any(), "a run folder was left behind\n" + r);
    }

    [Theory]
    [InlineData("--fam-normalization", "neuronwise", "neuronwise")]
    [InlineData("--fam-lambda", "-0.5", "--fam-lambda must be a finite number ≥ 0")]
    [InlineData("--fam-lambda", "NaN", "--fam-lambda must be a finite number ≥ 0")]
    [InlineData("--fam-lambda", "abc", "--fam-lambda must be a number, got 'abc'")]
    [InlineData("--fam-probes", "1.5", "--fam-probes must be an integer, got '1.5'")]
    public void BadFamSettingsAreUsageErrorsWithExit2AndRecordNoRun(string option, string value, string cause)
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, Train(data, "--method", "fam", option, value));
        CliRunner.AssertOneLineError(r, cause);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")) && Directory.EnumerateDirectories(Path.Combine(dir, "runs")).Any(), "a run folder was left behind\n" + r);
    }

    [Fact]
    public void SgldProgressNamesItsDerivedStepSizeAndRootHelpDescribesTheDemo()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var sgld = CliRunner.Run(dir, null, Train(data, "--method", "sgld", "--epochs", "1"));
        Assert.True(sgld.ExitCode == 0, sgld.ToString());
        var epoch = Assert.Single(sgld.Stdout.Split('\n'), l => l.Contains("epoch 1/1"));
        Assert.Contains("SGLD step (2·lr/N) ", epoch);        // the rate SGLD used is not the --lr given
        Assert.DoesNotContain("  lr ", epoch);
        var sgd = CliRunner.Run(dir, null, Train(data, "--epochs", "1"));
        Assert.Contains("  lr 0.05 ", Assert.Single(sgd.Stdout.Split('\n'), l => l.Contains("epoch 1/1")));
        var help = CliRunner.Run(dir, null, "--help");
        Assert.Contains("trains LeNet-5 on Fashion-MNIST with SGD, SAM, FAM and SAF", help.Stdout);
    }

    [Fact]
    public void SamWithSafAndSgldRunAndRecordTheirExtras()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);

        var saf = CliRunner.Run(dir, null, Train(data, "--method", "sam+saf", "--saf-lag", "1", "--saf-start", "1", "--coherence-every", "3", "--json"));
        Assert.True(saf.ExitCode == 0, saf.ToString());
        using (var doc = JsonDocument.Parse(saf.Stdout))
        {
            var folder = doc.RootElement.GetProperty("runFolder").GetString()!;
            var lines = File.ReadAllLines(Path.Combine(folder, "coherence.csv"));
            Assert.Equal("epoch,step,examples,m_coherence", lines[0]);
            Assert.Equal(5, lines.Length);   // 6 batches per epoch × 2 epochs, every 3rd step: steps 0, 3, 6, 9
            var last = doc.RootElement.GetProperty("figures").GetProperty("method").GetProperty("finalCoherence").GetDouble();
            Assert.InRange(last, 1e-6, 16.0);   // m-coherence lies in [0, m]; below 1 when per-example gradients cancel
        }

        var sgld = CliRunner.Run(dir, null, Train(data, "--method", "sgld", "--burn-in", "6", "--thin", "2", "--json"));
        Assert.True(sgld.ExitCode == 0, sgld.ToString());
        using (var doc = JsonDocument.Parse(sgld.Stdout))
        {
            var folder = doc.RootElement.GetProperty("runFolder").GetString()!;
            Assert.Equal(3, Directory.GetFiles(Path.Combine(folder, "samples"), "sample-*.safetensors").Length);   // steps 8, 10, 12
            var ensemble = doc.RootElement.GetProperty("figures").GetProperty("method").GetProperty("ensemble");
            Assert.Equal(3, ensemble.GetProperty("samples").GetInt32());
            Assert.True(ensemble.GetProperty("ensembleLogLoss").GetDouble() <= ensemble.GetProperty("memberLogLoss").GetDouble() + 1e-12);
            Assert.True(File.Exists(Path.Combine(folder, "ensemble.json")));
        }
    }

    [Fact]
    public void DemoComparesTheFourMethodsAndWritesJsonAChartAndAReport()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, "demo", "--data", data, "--samples", "96", "--test-samples", "32", "--epochs", "2",
            "--model", "mlp:16", "--threads", "1", "--out", "report", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(["sgd", "sam", "fam", "saf"], rows.Select(x => x.GetProperty("method").GetString()));
        Assert.All(rows, x => Assert.True(x.GetProperty("secondsPerStep").GetDouble() > 0));
        Assert.All(rows, x => Assert.True(x.GetProperty("relativeFlatnessHead").GetDouble() > 0));
        // The head's Hessian under cross-entropy is positive semi-definite: 0 < λ_max ≤ trace.
        Assert.All(rows, x => Assert.True(x.GetProperty("lambdaMaxHeadWeight").GetDouble() > 0));
        Assert.All(rows, x => Assert.True(x.GetProperty("lambdaMaxHeadWeight").GetDouble() <= x.GetProperty("hessianTraceHeadWeight").GetDouble() * (1 + 1e-9)));
        using var written = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report", "demo.json")));
        Assert.Equal(4, written.RootElement.GetArrayLength());
        var png = File.ReadAllBytes(Path.Combine(dir, "report", "demo.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        // The demo ends with its report: the four runs compared, in the demo's folder.
        var ids = rows.Select(x => x.GetProperty("runId").GetString()!).ToList();
        var page = doc.RootElement.GetProperty("report").GetString()!;
        Assert.Equal(Path.Combine(dir, "report", $"compare-{ids[0]}-{ids[1]}-{ids[2]}-and-1-more.html"), page);
        var html = File.ReadAllText(page);
        Assert.All(ids, id => Assert.Contains($"<section class=\"run\" id=\"run-{id}\">", html));
        Assert.Contains("<table id=\"final-figures\">", html);
        // The head's geometry, measured by the demo, joins each run's final figures.
        Assert.All(rows, x => Assert.Contains($"data-run=\"{x.GetProperty("runId").GetString()}\" data-figure=\"lambdaMaxHeadWeight\" "
            + $"data-value=\"{x.GetProperty("lambdaMaxHeadWeight").GetDouble().ToString("R", CultureInfo.InvariantCulture)}\"", html));
        Assert.True(File.Exists(Path.Combine(dir, "report", $"compare-{ids[0]}-{ids[1]}-{ids[2]}-and-1-more.loss.csv")));

        var bad = CliRunner.Run(dir, null, "demo", "--data", data, "--methods", "sgd", "nope");
        CliRunner.AssertOneLineError(bad, "unknown method 'nope'");
    }
}
