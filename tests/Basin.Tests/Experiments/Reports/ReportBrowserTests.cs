using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Basin.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace Basin.Tests.Experiments.Reports;

/// <summary>
/// `basin report` end to end: tiny runs trained by the real CLI, their report opened from file:// in headless Chromium
/// (Debian's chromium, which ./test.sh installs when root) with every host name unresolvable, the rendered DOM checked
/// against the run database, and a screenshot saved beside the test binaries (browser-screenshots/).
/// </summary>
public partial class ReportBrowserTests(ITestOutputHelper output)
{
    static string TrainTiny(string dir, string method)
    {
        var r = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--samples", "128", "--test-samples", "64", "--model", "mlp:8",
            "--epochs", "3", "--method", method, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Stdout).RootElement.GetProperty("runId").GetString()!;
    }

    /// <summary>Runs headless Chromium on a page with no name resolution (any network request fails); returns stdout and stderr.</summary>
    static (string Stdout, string Stderr) Chromium(string dir, string page, params string[] mode)
    {
        const string binary = "/usr/bin/chromium";
        Assert.True(File.Exists(binary), "Chromium is not installed: run ./test.sh as root, or 'sudo apt-get install chromium'");
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                     "--user-data-dir=" + Path.Combine(dir, "chromium-profile-" + Guid.NewGuid().ToString("N")[..8]),
                     "--virtual-time-budget=20000", "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1200,2600" })
            psi.ArgumentList.Add(a);
        foreach (var a in mode) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(new Uri(page).AbsoluteUri);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish with {page} in 2 minutes");
        }
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"chromium exit {p.ExitCode}\n{stderr.Result}");
        return (stdout.Result, stderr.Result);
    }

    [GeneratedRegex("""data-run="([^"]+)" data-figure="([^"]+)" data-value="([^"]*)">([^<]*)""")]
    private static partial Regex NumberCell();

    [Fact]
    public void TheComparisonRendersOfflineInChromiumWithTheDatabasesNumbers()
    {
        var dir = CliRunner.TempDir();
        var a = TrainTiny(dir, "sgd");
        var b = TrainTiny(dir, "sam");
        var outDir = Path.Combine(dir, "out");
        var r = CliRunner.Run(dir, null, "report", a, b, "--compare", "--out", outDir, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var written = JsonDocument.Parse(r.Stdout).RootElement;
        var html = written.GetProperty("html").GetString()!;
        Assert.Equal(Path.Combine(outDir, $"compare-{a}-{b}.html"), html);
        var csvs = written.GetProperty("csv").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["loss", "accuracy", "gap", "learning-rate"], csvs.Select(c => Path.GetFileName(c).Split('.')[1]));
        Assert.All(csvs, c => Assert.StartsWith("run,epoch,series,value\n", File.ReadAllText(c)));
        var (dom, log) = Chromium(dir, html, "--dump-dom");
        // Self-contained: outside the inline scripts' text, no element loads a source (script, style, image or frame).
        var markup = Regex.Replace(dom, "<script[^>]*>.*?</script>", "<script></script>", RegexOptions.Singleline);
        // Three libraries, the four charts' specs, the embedding.
        Assert.Equal(8, Regex.Matches(markup, "<script></script>").Count);
        Assert.DoesNotMatch(new Regex("<(script|img|iframe|link|image)[^>]+(src|href)=", RegexOptions.IgnoreCase), markup);
        Assert.DoesNotContain(":CONSOLE", log);   // no console message: no script error, no failed load
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        foreach (var chart in new[] { "loss", "accuracy", "gap", "learning-rate" })
        {
            int at = dom.IndexOf($"id=\"chart-{chart}\"", StringComparison.Ordinal);
            Assert.True(at > 0, $"chart {chart} missing");
            var element = dom[at..dom.IndexOf("</figure>", at, StringComparison.Ordinal)];
            Assert.Contains("<svg", element);
            // Two runs, each with a line per series: the lines are drawn paths with coordinates.
            var lines = Regex.Matches(element, "<path[^>]*aria-roledescription=\"line mark\"[^>]*d=\"M[0-9.,-]+L");
            Assert.True(lines.Count >= 2, $"chart {chart}: {lines.Count} drawn lines");
        }

        // Every number shown equals the run database's: exact in data-value, 6 significant digits as text.
        var cells = NumberCell().Matches(dom).Select(m => (Run: m.Groups[1].Value, Figure: m.Groups[2].Value, Value: m.Groups[3].Value,
            Text: m.Groups[4].Value.Trim())).ToList();
        foreach (var id in new[] { a, b })
        {
            var show = CliRunner.Run(dir, null, "runs", "show", id, "--json");
            Assert.True(show.ExitCode == 0, show.ToString());
            var run = JsonDocument.Parse(show.Stdout).RootElement;
            var final = run.GetProperty("summary").GetProperty("final");
            int compared = 0;
            foreach (var p in final.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number))
            {
                var shown = cells.Where(c => c.Run == id && c.Figure == p.Name).ToList();
                Assert.True(shown.Count == 2, $"{id} {p.Name}: shown {shown.Count} times (comparison table and run section)");
                foreach (var c in shown)
                {
                    Assert.Equal(p.Value.GetDouble(), double.Parse(c.Value, CultureInfo.InvariantCulture));
                    Assert.Equal(p.Value.GetDouble().ToString("G6", CultureInfo.InvariantCulture), c.Text);
                }
                compared++;
            }
            Assert.Equal(10, compared);
            foreach (var e in run.GetProperty("epochs").EnumerateArray())
            {
                var cell = cells.Single(c => c.Run == id && c.Figure == $"epoch {e.GetProperty("epoch").GetInt32()} testLoss");
                Assert.Equal(e.GetProperty("testLoss").GetDouble(), double.Parse(cell.Value, CultureInfo.InvariantCulture));
            }
        }
        var testAccuracyA = double.Parse(cells.First(c => c.Run == a && c.Figure == "testAccuracy").Value, CultureInfo.InvariantCulture);
        var testAccuracyB = double.Parse(cells.First(c => c.Run == b && c.Figure == "testAccuracy").Value, CultureInfo.InvariantCulture);
        var difference = (testAccuracyB - testAccuracyA).ToString("G6", CultureInfo.InvariantCulture);
        Assert.Contains($"<span class=\"diff\">({(testAccuracyB >= testAccuracyA ? "+" : "")}{difference})</span>", dom);

        var shots = Path.Combine(AppContext.BaseDirectory, "browser-screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "report-compare.png");
        File.Delete(shot);
        Chromium(dir, html, "--screenshot=" + shot);
        var png = File.ReadAllBytes(shot);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(png.Length > 20_000, $"screenshot of {png.Length} bytes");
        output.WriteLine($"screenshot: {shot}");
    }

    [Fact]
    public void ASingleRunsReportRendersAndBadInputIsOneLine()
    {
        var dir = CliRunner.TempDir();
        var a = TrainTiny(dir, "sgd");
        var outDir = Path.Combine(dir, "out");
        var r = CliRunner.Run(dir, null, "report", a[..12], "--out", outDir);   // a unique prefix is accepted
        Assert.True(r.ExitCode == 0, r.ToString());
        var html = Path.Combine(outDir, $"report-{a}.html");
        Assert.Equal($"Wrote {html} (4 charts, data in 4 CSV files beside it).", r.Stdout.Trim());
        var (dom, log) = Chromium(dir, html, "--dump-dom");
        Assert.DoesNotContain(":CONSOLE", log);
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        Assert.Equal(4, Regex.Matches(dom, "id=\"chart-[a-z-]+\"[^>]*><svg").Count);

        // The run folder lost its per-epoch file: the page says so and still draws the database's metrics.
        File.Delete(Path.Combine(dir, "runs", a, "epochs.csv"));
        r = CliRunner.Run(dir, null, "report", a, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"note: run {a}: epochs.csv is missing from {Path.Combine(dir, "runs", a)}", r.Stdout);
        Assert.Contains($"<li>epochs.csv is missing from {Path.Combine(dir, "runs", a)}</li>", File.ReadAllText(html));

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "20990101-nope"), "no run '20990101-nope'");
        File.WriteAllText(Path.Combine(dir, "file"), "");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", a, "--out", Path.Combine(dir, "file")),
            $"the output folder {Path.Combine(dir, "file")} is a file");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", a, "--compare"), "--compare needs two or more runs");
    }

    [Fact]
    public void ASweepsReportRendersWithTheRankingsNumbersAndBadInputIsOneLine()
    {
        var dir = CliRunner.TempDir();
        File.WriteAllText(Path.Combine(dir, "tiny.json"), """
            { "name": "tiny", "base": { "dataset": "moons", "model": "mlp:4", "samples": 64, "testSamples": 64, "epochs": 2 },
              "axes": { "learningRate": [0.05, 0.2], "seed": [1, 2] }, "measures": ["params", "parameter-norm", "path-norm"] }
            """);
        var outDir = Path.Combine(dir, "out");
        // No point has run yet: one line, nothing written.
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "--sweep", "tiny.json", "--out", outDir), "no sweep 'tiny'");
        Assert.False(Directory.Exists(outDir));
        var run = CliRunner.Run(dir, null, "sweep", "run", "tiny.json", "--threads", "1");
        Assert.True(run.ExitCode == 0, run.ToString());
        var ranking = CliRunner.Run(dir, null, "sweep", "report", "tiny.json", "--json");
        Assert.True(ranking.ExitCode == 0, ranking.ToString());
        var rows = JsonDocument.Parse(ranking.Stdout).RootElement.GetProperty("ranking").EnumerateArray().ToList();

        var r = CliRunner.Run(dir, null, "report", "--sweep", "tiny.json", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        var html = Path.Combine(outDir, "sweep-tiny.html");
        Assert.Equal($"Wrote {html} (2 charts, data in 2 CSV files beside it).", r.Stdout.Trim());
        var (dom, log) = Chromium(dir, html, "--dump-dom");
        Assert.DoesNotContain(":CONSOLE", log);
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        Assert.Equal(2, Regex.Matches(dom, "id=\"chart-[a-z-]+\"[^>]*><svg").Count);
        // The scatter draws one symbol per model and variant of the first-ranked measure, and offers every measure.
        int at = dom.IndexOf("id=\"chart-measure-vs-gap\"", StringComparison.Ordinal);
        var scatter = dom[at..dom.IndexOf("</figure>", at, StringComparison.Ordinal)];
        Assert.Equal(8, Regex.Matches(scatter, "aria-roledescription=\"point\"").Count);
        // Options: every measure with a value, then the two axes to colour by.
        Assert.Equal(rows.Count(x => x.GetProperty("original").GetProperty("models").GetInt32() > 0) + 2,
            Regex.Matches(scatter, "<option ").Count);
        foreach (var row in rows)
        {
            var measure = row.GetProperty("measure").GetString()!;
            foreach (var (figure, variant) in new[] { ("tau", "original"), ("tau reparametrized", "reparametrized") })
            {
                var tau = row.GetProperty(variant).GetProperty("tau");
                var cell = Regex.Match(dom, $"data-run=\"{Regex.Escape(measure)}\" data-figure=\"{figure}\" data-value=\"([^\"]*)\"");
                Assert.True(cell.Success, $"{measure} {figure} not shown");
                if (tau.ValueKind == JsonValueKind.Number)
                    Assert.Equal(tau.GetDouble(), double.Parse(cell.Groups[1].Value, CultureInfo.InvariantCulture));
                else Assert.Equal("", cell.Groups[1].Value);
            }
        }
        var shots = Path.Combine(AppContext.BaseDirectory, "browser-screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "report-sweep.png");
        File.Delete(shot);
        Chromium(dir, html, "--screenshot=" + shot);
        Assert.True(new FileInfo(shot).Length > 20_000);
        output.WriteLine($"screenshot: {shot}");

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "--sweep", "tiny.json", "--compare"), "--sweep makes a page of its own");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "--gap", "loss"), "--gap goes with --sweep");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report"), "name at least one run id");
    }

    [Fact]
    public void ARobustnessReportShowsEveryModelsSamplesSideBySide()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var train = CliRunner.Run(dir, null, "train", "--data", data, "--model", "mlp:16", "--epochs", "2", "--batch-size", "16",
            "--threads", "1", "--json");
        Assert.True(train.ExitCode == 0, train.ToString());
        var dense = JsonDocument.Parse(train.Stdout).RootElement.GetProperty("runId").GetString()!;
        var prune = CliRunner.Run(dir, null, "prune", dense, "--method", "random", "--sparsity", "0.5", "--epochs", "0", "--threads", "1",
            "--json");
        Assert.True(prune.ExitCode == 0, prune.ToString());
        var pruned = JsonDocument.Parse(prune.Stdout).RootElement.GetProperty("rounds")[1].GetProperty("runId").GetString()!;
        var rob = CliRunner.Run(dir, null, "robustness", dense, pruned, "--corruptions", "rotate,contrast", "--severities", "1-3",
            "--out", "rob", "--threads", "1", "--json");
        Assert.True(rob.ExitCode == 0, rob.ToString());
        var result = JsonDocument.Parse(rob.Stdout).RootElement;

        var r = CliRunner.Run(dir, null, "report", "--robustness", "rob");
        Assert.True(r.ExitCode == 0, r.ToString());
        var html = Path.Combine(dir, "rob", "robustness.html");
        Assert.Equal($"Wrote {html} (2 charts, data in 2 CSV files beside it).", r.Stdout.Trim());
        var (dom, log) = Chromium(dir, html, "--dump-dom");
        Assert.DoesNotContain(":CONSOLE", log);
        Assert.Contains("<body data-charts=\"rendered\">", dom);
        // One view per model, each drawing every one of the 32 test samples of the clean set whose features are not all
        // zero (θ_y undefined): the page names a model whose features all are.
        int at = dom.IndexOf("id=\"chart-samples\"", StringComparison.Ordinal);
        var samples = dom[at..dom.IndexOf("</figure>", at, StringComparison.Ordinal)];
        var csv = File.ReadAllLines(Path.Combine(dir, "rob", "robustness.samples.csv"));
        Assert.Equal("sample,label,set,t0,h0,g0,o0,t1,h1,g1,o1", csv[0]);
        var clean = csv.Skip(1).Select(l => l.Split(',')).Where(c => c[2] == "clean").ToList();
        Assert.Equal(32, clean.Count);
        int drawn = clean.Count(c => c[3] != "") + clean.Count(c => c[7] != "");
        Assert.Equal(drawn, Regex.Matches(samples, "aria-roledescription=\"point\"").Count);
        Assert.True(drawn >= 32, $"{drawn} points drawn");
        foreach (var (model, column) in new[] { (0, 3), (1, 7) })
            if (csv.Skip(1).All(l => l.Split(',')[column] == ""))
                Assert.Contains("every sample's features are zero for", r.Stdout);
        Assert.Contains("sgd s", samples);
        Assert.Contains("random s", samples);
        foreach (var run in result.GetProperty("runs").EnumerateArray())
        {
            var id = run.GetProperty("runId").GetString()!;
            var cell = Regex.Match(dom, $"data-run=\"{id}\" data-figure=\"cleanAccuracy\" data-value=\"([^\"]*)\"");
            Assert.Equal(run.GetProperty("cleanAccuracy").GetDouble(), double.Parse(cell.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        var shots = Path.Combine(AppContext.BaseDirectory, "browser-screenshots");
        Directory.CreateDirectory(shots);
        Chromium(dir, html, "--screenshot=" + Path.Combine(shots, "report-robustness.png"));

        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "--robustness", "rob", "--severity", "5"),
            "severity 5 was not evaluated (the result has 1, 2, 3)");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "report", "--robustness", data), "has no result.json");
    }
}
