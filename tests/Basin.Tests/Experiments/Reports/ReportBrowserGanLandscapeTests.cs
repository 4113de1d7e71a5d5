using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Experiments.Reports;

/// <summary>
/// The GAN, landscape and connectivity views of `basin report` end to end: tiny runs made by the real CLI, their pages
/// opened offline in headless Chromium and checked against the run database and the jobs' own files.
/// </summary>
public partial class ReportBrowserTests
{
    static JsonElement Cli(string dir, params string[] args)
    {
        var r = CliRunner.Run(dir, null, [.. args, "--json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    static string TrainGan(string dir, int seed) => Cli(dir, "gan", "train", "--data", "8gaussians", "--hidden", "8,8", "--iterations", "6",
        "--warmup", "0", "--critic-steps", "1", "--batch-size", "16", "--samples", "64", "--eval-count", "32", "--eval-every", "3",
        "--progress-every", "2", "--seed", $"{seed}", "--threads", "1").GetProperty("runId").GetString()!;

    /// <summary>The page's DOM with the inline scripts' text removed, and the element of chart <paramref name="id"/>.</summary>
    static string ChartElement(string dom, string id)
    {
        int at = dom.IndexOf($"id=\"chart-{id}\"", StringComparison.Ordinal);
        Assert.True(at > 0, $"chart {id} missing");
        var element = dom[at..dom.IndexOf("</figure>", at, StringComparison.Ordinal)];
        Assert.Contains("<svg", element);
        return element;
    }

    static int Lines(string element) => Regex.Matches(element, "<path[^>]*aria-roledescription=\"line mark\"[^>]*d=\"M[0-9.,-]+L").Count;

    /// <summary>Every element that loads a source loads a PNG data URI; returns their URIs.</summary>
    static List<string> OnlyDataImages(string dom)
    {
        var markup = Regex.Replace(dom, "<script[^>]*>.*?</script>", "<script></script>", RegexOptions.Singleline);
        var sources = Regex.Matches(markup, "<(script|img|iframe|link|image)[^>]+(src|href)=\"([^\"]*)\"", RegexOptions.IgnoreCase)
            .ToList();
        Assert.All(sources, m => Assert.Equal("img", m.Groups[1].Value));
        Assert.All(sources, m => Assert.StartsWith("data:image/png;base64,", m.Groups[3].Value));
        return sources.Select(m => m.Groups[3].Value).ToList();
    }

    [Fact]
    public void AGanRunsReportRendersItsCurvesAndEmbedsItsInterpolationPlots()
    {
        var dir = CliRunner.TempDir();
        var a = TrainGan(dir, 1);
        var b = TrainGan(dir, 2);
        var interpolation = Cli(dir, "gan", "interpolate", a, "--method", "linear,slerp", "--pairs", "2", "--steps", "3", "--threads", "1");
        var plots = interpolation.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToList();
        var outDir = Path.Combine(dir, "out");
        var r = CliRunner.Run(dir, null, "report", a, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        var html = Path.Combine(outDir, $"report-{a}.html");
        Assert.Equal($"Wrote {html} (3 charts, data in 3 CSV files beside it).", r.Stdout.Trim());
        var (dom, log) = Chromium(dir, html, "--dump-dom");
        Assert.DoesNotContain(":CONSOLE", log);
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        foreach (var chart in new[] { "wasserstein", "gan-loss", "penalty" })
            Assert.True(Lines(ChartElement(dom, chart)) >= 1, chart);
        Assert.Equal(2, Lines(ChartElement(dom, "wasserstein")));   // exact W1 and the critic's estimate
        // The samples the run drew and the two plots, embedded byte for byte; nothing else loads a source.
        var samples = Path.Combine(dir, "runs", a, "samples.png");
        Assert.Equal(plots.Prepend(samples).Select(p => "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(p))),
            OnlyDataImages(dom));

        // Every per-iteration number shown equals the run database's.
        var cells = NumberCell().Matches(dom).Select(m => (Run: m.Groups[1].Value, Figure: m.Groups[2].Value, Value: m.Groups[3].Value))
            .ToList();
        var show = Cli(dir, "runs", "show", a);
        var epochs = show.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal(6, epochs.Count);
        int exact = 0;
        foreach (var e in epochs)
        {
            int i = e.GetProperty("iteration").GetInt32();
            foreach (var figure in new[] { "wassersteinEstimate", "criticLoss", "generatorLoss", "penalty", "exactW1" })
            {
                var cell = cells.Single(c => c.Run == a && c.Figure == $"iteration {i} {figure}");
                if (e.GetProperty(figure).ValueKind == JsonValueKind.Null) { Assert.Equal("", cell.Value); continue; }
                Assert.Equal(e.GetProperty(figure).GetDouble(), double.Parse(cell.Value, CultureInfo.InvariantCulture));
                if (figure == "exactW1") exact++;
            }
        }
        Assert.Equal(2, exact);   // measured at iterations 3 and 6
        // The chart's CSV holds the same numbers.
        var csv = File.ReadAllLines(Path.Combine(outDir, $"report-{a}.wasserstein.csv"));
        Assert.Equal("run,iteration,series,value", csv[0]);
        Assert.Equal(epochs.Select(e => e.GetProperty("wassersteinEstimate").GetDouble()),
            csv.Where(l => l.Contains(",critic's estimate,")).Select(l => double.Parse(l.Split(',')[3], CultureInfo.InvariantCulture)));

        // Two GAN runs compared: both overlaid in every chart.
        r = CliRunner.Run(dir, null, "report", a, b, "--compare", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        var compared = Path.Combine(outDir, $"compare-{a}-{b}.html");
        (dom, log) = Chromium(dir, compared, "--dump-dom");
        Assert.DoesNotContain(":CONSOLE", log);
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        Assert.Equal(4, Lines(ChartElement(dom, "wasserstein")));
        Assert.Equal(4, Lines(ChartElement(dom, "gan-loss")));
        Assert.Equal(2, Lines(ChartElement(dom, "penalty")));
        Assert.Equal(4, OnlyDataImages(dom).Count);   // each run's samples, and run A's two plots

        var shots = Path.Combine(AppContext.BaseDirectory, "browser-screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "report-gan.png");
        File.Delete(shot);
        Chromium(dir, html, "--screenshot=" + shot);
        Assert.True(new FileInfo(shot).Length > 20_000, "screenshot");
        output.WriteLine($"screenshot: {shot}");

        // A plot gone from the interpolation folder: named on the page and by the command; the other is still shown.
        File.Delete(plots[1]);
        r = CliRunner.Run(dir, null, "report", a, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        var folder = Path.GetDirectoryName(plots[1])!;
        Assert.Contains($"note: run {a}: the image {Path.GetFileName(plots[1])} is missing from {folder}", r.Stdout);
        (dom, log) = Chromium(dir, html, "--dump-dom");
        Assert.Contains($"<li>the image {Path.GetFileName(plots[1])} is missing from {folder}</li>", dom);
        Assert.Equal(2, OnlyDataImages(dom).Count);
    }

    [Fact]
    public void LandscapesAndConnectivityRenderOnTheRunsReportAndOnAPageOfTheirOwn()
    {
        var dir = CliRunner.TempDir();
        var a = TrainTiny(dir, "sgd");
        var b = TrainTiny(dir, "sgd");
        var line = Cli(dir, "landscape", a, "--dims", "1", "--steps", "5", "--samples", "64", "--test-samples", "32", "--threads", "1");
        var plane = Cli(dir, "landscape", a, "--dims", "2", "--steps", "4", "--samples", "64", "--test-samples", "32", "--threads", "1");
        var connect = Cli(dir, "connect", a, b, "--epochs", "1", "--samples", "64", "--test-samples", "32", "--points", "5",
            "--threads", "1");
        var outDir = Path.Combine(dir, "out");
        var r = CliRunner.Run(dir, null, "report", a, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        var html = Path.Combine(outDir, $"report-{a}.html");
        Assert.Equal($"Wrote {html} (7 charts, data in 7 CSV files beside it).", r.Stdout.Trim());
        var (dom, log) = Chromium(dir, html, "--dump-dom");
        Assert.DoesNotContain(":CONSOLE", log);
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        Assert.Empty(OnlyDataImages(dom));
        Assert.Equal(2, Lines(ChartElement(dom, "landscape-1")));   // train and test
        // The heat map: one rectangle per grid point and split.
        Assert.Equal(4 * 4 * 2, Regex.Matches(ChartElement(dom, "landscape-2"), "aria-roledescription=\"rect mark\"").Count);
        Assert.Contains("colour by log10 of the loss", ChartElement(dom, "landscape-2"));
        Assert.Equal(4, Lines(ChartElement(dom, "connect-1")));   // line and curve, train and test

        // The charts' data are the jobs' numbers exactly.
        static double[] Column(string csv, int column, Func<string[], bool>? where = null) => File.ReadAllLines(csv).Skip(1)
            .Select(l => l.Split(',')).Where(c => where?.Invoke(c) ?? true)
            .Select(c => double.Parse(c[column], CultureInfo.InvariantCulture)).ToArray();
        var lineCsv = line.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).Single(f => f.EndsWith(".csv"));
        Assert.Equal(Column(lineCsv, 1), Column(Path.Combine(outDir, $"report-{a}.landscape-1.csv"), 2, c => c[0] == "train"));
        Assert.Equal(Column(lineCsv, 3), Column(Path.Combine(outDir, $"report-{a}.landscape-1.csv"), 2, c => c[0] == "test"));
        var planeCsv = plane.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).Single(f => f.EndsWith(".csv"));
        Assert.Equal(Column(planeCsv, 2), Column(Path.Combine(outDir, $"report-{a}.landscape-2.csv"), 3, c => c[0] == "train"));
        Assert.Equal(Column(planeCsv, 4), Column(Path.Combine(outDir, $"report-{a}.landscape-2.csv"), 3, c => c[0] == "test"));
        Assert.Equal(connect.GetProperty("curve").GetProperty("loss").EnumerateArray().Select(v => v.GetDouble()),
            Column(Path.Combine(outDir, $"report-{a}.connect-1.csv"), 3, c => c[0] == "curve" && c[1] == "train"));
        var cells = NumberCell().Matches(dom).ToDictionary(m => m.Groups[2].Value, m => m.Groups[3].Value);
        Assert.Equal(line.GetProperty("ownLoss").GetDouble(), double.Parse(cells["landscape-1 ownLoss"], CultureInfo.InvariantCulture));
        Assert.Equal(connect.GetProperty("line").GetProperty("barrier").GetProperty("max").GetDouble(),
            double.Parse(cells["connect-1 line train barrier max"], CultureInfo.InvariantCulture));

        var shots = Path.Combine(AppContext.BaseDirectory, "browser-screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "report-landscape.png");
        File.Delete(shot);
        Chromium(dir, html, "--screenshot=" + shot);
        Assert.True(new FileInfo(shot).Length > 20_000, "screenshot");
        output.WriteLine($"screenshot: {shot}");

        // Results kept outside a run folder: a page of their own, written into that folder.
        var kept = Path.Combine(dir, "kept");
        Cli(dir, "landscape", a, "--dims", "2", "--steps", "3", "--samples", "32", "--test-samples", "0",
            "--out", Path.Combine(kept, "plane"), "--threads", "1");
        r = CliRunner.Run(dir, null, "report", "--landscape", kept);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"Wrote {Path.Combine(kept, "landscape.html")} (1 chart, data in 1 CSV file beside it).", r.Stdout.Trim());
        (dom, log) = Chromium(dir, Path.Combine(kept, "landscape.html"), "--dump-dom");
        Assert.DoesNotContain(":CONSOLE", log);
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        Assert.Equal(3 * 3, Regex.Matches(ChartElement(dom, "landscape-1"), "aria-roledescription=\"rect mark\"").Count);

        var empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "--landscape", empty), $"{empty} holds no landscape.json");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "--landscape", empty, a), "--landscape makes a page of its own");
        Assert.Empty(Directory.GetFiles(empty));
    }
}
