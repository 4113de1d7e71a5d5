using System.Text.Json.Nodes;
using Basin.Experiments.Reports;
using Basin.Experiments.Robustness;
using Basin.IO;
using Basin.Robustness;
using Xunit;

namespace Basin.Tests.Experiments.Reports;

/// <summary>The robustness page from a hand-made result folder whose every number is known.</summary>
public class RobustnessPageTests
{
    static readonly DateTime Made = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    static CellSummary Cell(string corruption, int severity, double accuracy) =>
        new(corruption, severity, accuracy, 0.5, 9, 50 + severity, 2 - 0.1 * severity, 0, 0, 0);

    /// <summary>Two models, one corruption (rotate) at severities 1 and 3, three samples; model B's per-sample file optional.</summary>
    static string Folder(bool withB = true)
    {
        var folder = Path.Combine(Path.GetTempPath(), "basin-robpage-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        RunRobustness Run(string id, double clean) => new(id, "train", "mlp:4", 0, clean, clean - 0.2, [1, 1], [0, 0], 0.9, 0.6, 0.8,
            $"elsewhere/geometry-{id}.csv", [Cell("clean", 0, clean), Cell("rotate", 1, clean - 0.1), Cell("rotate", 3, clean - 0.3)]);
        var result = new RobustnessResult("toy", 3, 7, ["rotate"], [1, 3], [Run("A", 0.9), Run("B", 0.8)],
            [new RunPair("A", "B", new Agreement(2.0 / 3, 0.25), new Agreement(0.5, 0.1))],
            [], [new SampleRank(2, 1, 0.25, 1)], [new SampleRank(0, 0, 1, 2)], []);
        File.WriteAllText(Path.Combine(folder, "result.json"), Json.Serialize(result));
        const string header = "corruption,severity,sample,label,prediction,correct,h_norm,w_y_norm,theta_y_deg,theta_pred_deg," +
            "theta_other_min_deg,logit_margin,geo_margin,angular_margin,p_y,loss,zero_feature,bias_share";
        string Rows(double shift) => string.Concat(new[] { ("clean", 0), ("rotate", 1), ("rotate", 3) }.SelectMany(set =>
            Enumerable.Range(0, 3).Select(s => $"{set.Item1},{set.Item2},{s},{s % 2},{s % 2},{((s + set.Item2) % 2 == 0 ? 1 : 0)}," +
                $"{10 + s + shift},1,{40 + 10 * set.Item2 + s},0,0,0,{0.5 * s},0,0,0,0,0\n")));
        File.WriteAllText(Path.Combine(folder, "geometry-A.csv"), header + "\n" + Rows(0));
        if (withB) File.WriteAllText(Path.Combine(folder, "geometry-B.csv"), header + "\n" + Rows(100));
        return folder;
    }

    [Fact]
    public void ThePerSampleViewsJoinEveryModelsRowsAndLinkTheirSelections()
    {
        var page = RobustnessPage.Build(Folder(), new Dictionary<string, string> { ["A"] = "sgd s1" }, Made, "9.9", "robustness");
        Assert.Empty(page.Notes);
        Assert.Equal(["severity", "samples"], page.Charts.Select(c => c.Id));
        // Severity 3 is the default; severity 1 is left out of the per-sample views.
        var rows = page.Charts[1].Csv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("sample,label,set,t0,h0,g0,o0,t1,h1,g1,o1", rows[0]);
        Assert.Equal(1 + 2 * 3, rows.Length);
        Assert.Equal("1,1,clean,41,11,0.5,wrong,41,111,0.5,wrong", rows[2]);
        Assert.Equal("2,0,rotate 3,72,12,1,wrong,72,112,1,wrong", rows[6]);
        var spec = page.Charts[1].Spec();
        var views = spec["concat"]!.AsArray();
        Assert.Equal(["sgd s1 (A)", "B"], views.Select(v => v!["title"]!.GetValue<string>()));
        foreach (var (view, i) in views.Select((v, i) => (v!, i)))
        {
            Assert.Equal($"brush{i}", view["params"]![0]!["name"]!.GetValue<string>());
            // Each view colours a point by its own model's outcome where every brush holds it: selections are linked.
            var condition = view["encoding"]!["color"]!["condition"]!;
            Assert.Equal($"o{i}", condition["field"]!.GetValue<string>());
            Assert.Equal(["brush0", "brush1"], condition["test"]!["and"]!.AsArray().Select(t => t!["param"]!.GetValue<string>()));
        }
        Assert.Equal(["clean", "rotate 3"], spec["params"]![0]!["bind"]!["options"]!.AsArray().Select(o => o!.GetValue<string>()));

        // Against severity: the clean cell is severity 0 of each corruption.
        var curves = page.Charts[0].Csv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("sgd s1 (A),rotate,0,accuracy,0.9", curves);
        Assert.Contains("B,rotate,3,median θ_y (degrees),53", curves);
        Assert.Equal(1 + 2 * 3 * 4, curves.Length);
        Assert.Contains("data-run=\"A|B\" data-figure=\"cleanKappa\" data-value=\"0.25\">0.250<", page.Html);
        Assert.Contains("data-run=\"A\" data-figure=\"meanCorruptedAccuracy\" data-value=\"" +
            (0.9 - 0.2).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "\"", page.Html);
    }

    [Fact]
    public void TheJobsFiguresAreEmbeddedAndABrokenOneIsNoted()
    {
        var folder = Folder();
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        File.WriteAllBytes(Path.Combine(folder, "heatmap.png"), png);
        File.WriteAllText(Path.Combine(folder, "dendrogram.png"), "not a picture");
        var page = RobustnessPage.Build(folder, new Dictionary<string, string>(), Made, "9.9", "robustness");
        Assert.Contains($"alt=\"heatmap.png\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\"", page.Html);
        Assert.DoesNotContain("alt=\"dendrogram.png\"", page.Html);
        Assert.Equal([$"the image dendrogram.png in {folder} is not a PNG file"], page.Notes);   // samples.png: absent, unsaid
    }

    [Fact]
    public void AMissingPerSampleFileIsNotedAndBadFoldersAreOneLine()
    {
        var folder = Folder(withB: false);
        var page = RobustnessPage.Build(folder, new Dictionary<string, string>(), Made, "9.9", "robustness", severity: 1);
        Assert.Equal([$"geometry-B.csv is missing from {folder}: the per-sample view of B is left out"], page.Notes);
        Assert.Single(page.Charts[1].Spec()["concat"]!.AsArray());
        Assert.Contains("1,1,rotate 1,51,11,0.5,right", page.Charts[1].Csv());

        Assert.Equal("severity 5 was not evaluated (the result has 1, 3)", Assert.Throws<OptionException>(() =>
            RobustnessPage.Build(folder, new Dictionary<string, string>(), Made, "9.9", "r", severity: 5)).Message);
        File.Delete(Path.Combine(folder, "result.json"));
        Assert.Equal($"{folder} has no result.json: name the --out folder of 'basin robustness'",
            Assert.Throws<BasinException>(() => RobustnessPage.Read(folder)).Message);
        File.WriteAllText(Path.Combine(folder, "result.json"), "{ nope");
        Assert.StartsWith($"{Path.Combine(folder, "result.json")} is not a robustness result: ",
            Assert.Throws<BasinException>(() => RobustnessPage.Read(folder)).Message);
        File.WriteAllText(Path.Combine(folder, "geometry-A.csv"), "corruption,severity\nclean,0\n");
        File.WriteAllText(Path.Combine(folder, "result.json"), File.ReadAllText(Path.Combine(Folder(), "result.json")));
        Assert.Equal($"{Path.Combine(folder, "geometry-A.csv")} has no column 'sample': not a per-sample geometry file of " +
            "'basin robustness'", Assert.Throws<BasinException>(() =>
            RobustnessPage.Build(folder, new Dictionary<string, string>(), Made, "9.9", "r")).Message);
    }
}
