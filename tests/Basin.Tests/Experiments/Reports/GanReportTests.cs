using Basin.Experiments;
using Basin.Experiments.Gan;
using Basin.Experiments.Reports;
using Basin.Gan;
using Basin.IO;
using Xunit;

namespace Basin.Tests.Experiments.Reports;

/// <summary>The report of GAN runs, from hand-made runs and folders whose every number is known.</summary>
public class GanReportTests
{
    static string TempFolder() => Path.Combine(Path.GetTempPath(), "basin-ganreport-" + Guid.NewGuid().ToString("N")[..12]);

    static readonly DateTime Start = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    /// <summary>Bytes that start like a PNG file (the page embeds them as they are).</summary>
    static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 250];

    /// <summary>
    /// A finished three-iteration GAN run (exact W1 measured at iterations 2 and 3, a NaN critic loss at 1) with an
    /// interpolation folder whose results name two plots, of which only one is there.
    /// </summary>
    static void AddGan(RunStore store, string id, double shift)
    {
        store.Start(new RunRecord(id, GanJob.Kind, Start, "mlp-generator / mlp-critic", "8gaussians", 3, """{"iterations":3}""", "{}"));
        store.AddEpoch(id, 1, new WganProgress(1, 3, 0.5 + shift, double.NaN, 0.125, -0.25, null));
        store.AddEpoch(id, 2, new WganProgress(2, 3, 0.75 + shift, -0.75, 0.0625, -0.375, null) { ExactW1 = 1.5 + shift });
        store.AddEpoch(id, 3, new WganProgress(3, 3, 1 + shift, -1, 0, -0.5, "wgan-0000003.safetensors") { ExactW1 = 1.25 + shift });
        store.Finish(id, RunStatus.Finished, new GanFigures(3, 1 + shift, -1, 0, -0.5, 1.25 + shift, 64, null, 0.5));
        var interpolation = Path.Combine(store.RunFolder(id), "interpolation-seed0");
        Directory.CreateDirectory(interpolation);
        File.WriteAllBytes(Path.Combine(interpolation, "paths-linear.png"), Png);
        File.WriteAllText(Path.Combine(interpolation, "results.json"), """
            { "runId": "x", "plots": ["/elsewhere/paths-linear.png", "/elsewhere/paths-slerp.png"],
              "summary": [{ "method": "linear", "pairs": 2, "meanLength": 0.375, "meanEnergy": 0.0625, "meanCriticMin": -1.5,
                            "meanCriticMean": "NaN", "maxEndpointError": 0 }] }
            """);
    }

    [Fact]
    public void AGanRunsReportDrawsItsIterationsExactlyAndEmbedsItsImages()
    {
        using var store = RunStore.Open(TempFolder());
        AddGan(store, "gan-a", 0);
        var folder = store.RunFolder("gan-a");
        File.WriteAllText(Path.Combine(folder, "broken.png"), "not an image");
        var r = RunReport.Load(store, "gan-a");
        Assert.Equal([new GanIteration(1, 0.5, null, 0.125, -0.25, null), new GanIteration(2, 0.75, -0.75, 0.0625, -0.375, 1.5),
            new GanIteration(3, 1, -1, 0, -0.5, 1.25)], r.Iterations);
        Assert.Empty(r.Epochs);
        var interpolation = Path.Combine(folder, "interpolation-seed0");
        Assert.Equal([$"the image broken.png in {folder} is not a PNG file", $"the image paths-slerp.png is missing from {interpolation}"],
            r.Notes);

        var page = ReportPage.Build([r], compare: false, Start, "report-gan-a");
        Assert.Equal(["wasserstein", "gan-loss", "penalty"], page.Charts.Select(c => c.Id));
        Assert.All(page.Charts, c => Assert.Equal("iteration", c.XTitle));
        Assert.Equal("run,iteration,series,value\ngan-a,2,exact W1,1.5\ngan-a,3,exact W1,1.25\ngan-a,1,critic's estimate,0.5\n" +
            "gan-a,2,critic's estimate,0.75\ngan-a,3,critic's estimate,1\n", page.Charts[0].Csv());
        // The NaN critic loss is not drawn.
        Assert.Equal("run,iteration,series,value\ngan-a,2,critic,-0.75\ngan-a,3,critic,-1\ngan-a,1,generator,-0.25\n" +
            "gan-a,2,generator,-0.375\ngan-a,3,generator,-0.5\n", page.Charts[1].Csv());
        Assert.Equal([0.125, 0.0625, 0.0], page.Charts[2].Points.Select(p => p.Value));
        Assert.Equal("iteration", page.Charts[0].Spec()["encoding"]!["x"]!["title"]!.GetValue<string>());
        // The image is embedded byte for byte; the per-iteration table and the interpolation scores carry exact values.
        Assert.Contains($"src=\"data:image/png;base64,{Convert.ToBase64String(Png)}\"", page.Html);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(page.Html, "<img [^>]*src=\"data:image/png;base64,"));
        Assert.Contains("data-run=\"gan-a\" data-figure=\"iteration 2 exactW1\" data-value=\"1.5\">1.5</td>", page.Html);
        Assert.Contains("data-run=\"gan-a\" data-figure=\"iteration 1 criticLoss\" data-value=\"\">–</td>", page.Html);
        Assert.Contains("data-figure=\"interpolation linear meanLength\" data-value=\"0.375\">0.375</td>", page.Html);
        Assert.Contains("data-figure=\"interpolation linear meanCriticMean\" data-value=\"\">–</td>", page.Html);
        Assert.Contains($"<li>the image paths-slerp.png is missing from {interpolation}</li>", page.Html);
        Assert.Contains("data-figure=\"exactW1\" data-value=\"1.25\">1.25</td>", page.Html);
        Assert.DoesNotContain("no per-epoch metrics", page.Html);
    }

    [Fact]
    public void TwoGanRunsComparedAreOverlaidAndEachKeepsItsImages()
    {
        using var store = RunStore.Open(TempFolder());
        AddGan(store, "gan-a", 0);
        AddGan(store, "gan-b", 0.5);
        var page = ReportPage.Build([RunReport.Load(store, "gan-a"), RunReport.Load(store, "gan-b")], compare: true, Start, "cmp");
        Assert.Equal(["wasserstein", "gan-loss", "penalty"], page.Charts.Select(c => c.Id));
        Assert.All(page.Charts, c => Assert.True(c.Overlaid));
        Assert.All(page.Charts, c => Assert.Equal(["gan gan-a", "gan gan-b"], c.RunOrder!));
        Assert.Equal([1.5, 1.25, 2.0, 1.75], page.Charts[0].Points.Where(p => p.Series == GanReport.ExactSeries).Select(p => p.Value));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(page.Html, "<img [^>]*src=\"data:image/png;base64,").Count);
        Assert.Equal(1.75, page.Comparison.Single(c => c.Figure == "exactW1").Values[1]);
        Assert.Equal(0.5, page.Comparison.Single(c => c.Figure == "exactW1").Differences[1]);
        // The comparison has no folder charts, so its CSV files are the three curves'.
        Assert.Equal(3, ((IReportPage)page).Charts.Count);
    }
}
