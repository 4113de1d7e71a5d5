using Basin.Experiments;
using Basin.Experiments.Landscape;
using Basin.Experiments.Reports;
using Basin.IO;
using Basin.Landscape;
using Xunit;

namespace Basin.Tests.Experiments.Reports;

/// <summary>Landscapes and connectivity on report pages, from results written as the jobs write them, every number known.</summary>
public class LandscapePageTests
{
    static string TempFolder() => Path.Combine(Path.GetTempPath(), "basin-landscapepage-" + Guid.NewGuid().ToString("N")[..12]);

    static readonly DateTime Start = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    static LandscapeResult Slice(string folder, int dims)
    {
        double[] alphas = [-1, 0, 1];
        double[]? betas = dims == 2 ? [-0.5, 0.5] : null;
        SliceValues Values(string split, double offset) => dims == 1
            ? new SliceValues(split, 64, [[2 + offset, 0.5 + offset, double.NaN]], [[0.25, 0.75, 0.5]], 1)
            : new SliceValues(split, 64, [[1 + offset, 2 + offset], [3 + offset, 4 + offset], [5 + offset, 6 + offset]],
                [[0.5, 0.25], [0.75, 0.125], [0.375, 0.625]], 0);
        return new LandscapeResult("run-a", null, "mlp:4", "moons", dims, "random", "filter", "zero", 123, alphas, betas, [1, 1], null,
            null, null, 0.5, Values("train", 0), dims == 1 ? Values("test", 0.125) : null, null, folder, [], 1);
    }

    static ConnectResult Connection(string folder)
    {
        var line = new PathProfile([0, 0.5, 1], [0.25, 1.5, 0.375], [1, 0.5, 0.875], new LossBarrier(1.5, 1.1875, 0.5));
        var curve = new PathProfile([0, 0.5, 1], [0.25, 0.5, 0.375], [1, 0.875, 0.875], new LossBarrier(0.5, 0.1875, 0.5));
        return new ConnectResult("run-a", "run-b", "mlp:4", "moons", "bezier", null, new CurveTrainingOptions(), 64, 0,
            [new CurveEpoch(1, 0.05, 0.75)], line, curve, null, null, folder, [], 1);
    }

    static void Write(string folder, string file, object result)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, file), Json.Serialize(result));
    }

    [Fact]
    public void ARunsReportShowsTheSlicesAndConnectivityInItsFolderExactly()
    {
        using var store = RunStore.Open(TempFolder());
        store.Start(new RunRecord("run-a", "train", Start, "mlp:4", "moons", 1, "{}", "{}"));
        var folder = store.RunFolder("run-a");
        string line = Path.Combine(folder, "landscape-1d-random-seed123"), plane = Path.Combine(folder, "landscape-2d-random-seed123");
        string connect = Path.Combine(folder, "connect-bezier-run-b-seed0"), broken = Path.Combine(folder, "landscape-broken");
        Write(line, FolderContents.LandscapeFile, Slice(line, 1));
        Write(plane, FolderContents.LandscapeFile, Slice(plane, 2));
        Write(connect, FolderContents.ConnectFile, Connection(connect));
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, FolderContents.LandscapeFile), """{"dims": 2, "alphas": [0]}""");
        var r = RunReport.Load(store, "run-a");
        Assert.Contains($"landscape.json in {broken} is not as the job writes it (no \"betas\" for a 2-D slice): it is not shown", r.Notes);

        var page = ReportPage.Build([r], compare: false, Start, "report-run-a");
        Assert.Empty(page.Charts);   // no epochs: only the folder's charts
        var charts = ((IReportPage)page).Charts;
        Assert.Equal(["landscape-1", "landscape-2", "connect-1"], charts.Select(c => c.Id));
        // 1-D: a row per split and α; the NaN loss is an empty cell.
        Assert.Equal("split,alpha,loss,accuracy\ntrain,-1,2,0.25\ntrain,0,0.5,0.75\ntrain,1,,0.5\n" +
            "test,-1,2.125,0.25\ntest,0,0.625,0.75\ntest,1,,0.5\n", charts[0].Csv());
        Assert.Equal("line", charts[0].Spec()["mark"]!["type"]!.GetValue<string>());
        // 2-D: loss[i][j] is at (α_i, β_j); drawn as rectangles.
        Assert.Equal("split,alpha,beta,loss,accuracy\ntrain,-1,-0.5,1,0.5\ntrain,-1,0.5,2,0.25\ntrain,0,-0.5,3,0.75\n" +
            "train,0,0.5,4,0.125\ntrain,1,-0.5,5,0.375\ntrain,1,0.5,6,0.625\n", charts[1].Csv());
        var heat = charts[1].Spec();
        Assert.Equal("rect", heat["mark"]!.GetValue<string>());
        Assert.Equal("colour", heat["encoding"]!["color"]!["field"]!.GetValue<string>());
        Assert.Equal("logLoss ? (datum.loss > 0 ? log(datum.loss) / LN10 : null) : datum.loss",
            heat["transform"]![0]!["calculate"]!.GetValue<string>());
        Assert.Equal(charts[1].Csv(), heat["data"]!["values"]!.GetValue<string>());   // the page parses the CSV itself
        Assert.Equal("path,split,t,loss,accuracy\nline,train,0,0.25,1\nline,train,0.5,1.5,0.5\nline,train,1,0.375,0.875\n" +
            "curve,train,0,0.25,1\ncurve,train,0.5,0.5,0.875\ncurve,train,1,0.375,0.875\n", charts[2].Csv());
        Assert.Contains("data-figure=\"connect-1 line train barrier max\" data-value=\"1.5\">1.5</td>", page.Html);
        Assert.Contains("data-figure=\"connect-1 curve train barrier chord\" data-value=\"0.1875\">0.1875</td>", page.Html);
        Assert.Contains("data-figure=\"landscape-1 ownLoss\" data-value=\"0.5\">0.5</td>", page.Html);
        Assert.Contains($"from {line}</p>", page.Html);
        Assert.Contains("<span class=\"csv\">report-run-a.landscape-2.csv</span>", page.Html);

        var files = ReportJob.Save(page, Path.Combine(folder, "out"));
        Assert.Equal(["report-run-a.landscape-1.csv", "report-run-a.landscape-2.csv", "report-run-a.connect-1.csv"],
            files.CsvPaths.Select(Path.GetFileName));
        Assert.Equal(charts[1].Csv(), File.ReadAllText(files.CsvPaths[1]));
    }

    [Fact]
    public void ASliceTooLargeToDrawIsNamedWithItsFolderAndTheRestIsDrawn()
    {
        var root = TempFolder();
        var big = Path.Combine(root, "big");
        int columns = (int)(FolderViews.MaxChartPoints / 2) + 1;
        var betas = Enumerable.Range(0, columns).Select(j => (double)j).ToArray();
        var loss = new[] { betas.ToArray(), betas.ToArray() };
        Write(big, FolderContents.LandscapeFile, Slice(big, 2) with
        {
            Alphas = [0, 1], Betas = betas, Train = new SliceValues("train", 64, loss, loss, 0),
        });
        var connect = Path.Combine(root, "connect");
        Write(connect, FolderContents.ConnectFile, Connection(connect));
        var page = LandscapePage.Build(root, Start, "test", "landscape");
        Assert.Equal(["connect-1"], page.Charts.Select(c => c.Id));
        string N(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"This slice has {N(2 * columns)} points, too many to draw in a page (the most is " +
            $"{N(FolderViews.MaxChartPoints)}): its values are in landscape.csv in {big}.", page.Html);
        Assert.Contains("data-figure=\"landscape-1 ownLoss\" data-value=\"0.5\"", page.Html);
    }

    [Fact]
    public void AFolderOfResultsHasAPageOfItsOwnAndAFolderWithoutAnyIsOneLine()
    {
        var root = TempFolder();
        var connect = Path.Combine(root, "connect");
        Write(connect, FolderContents.ConnectFile, Connection(connect));
        Write(root, FolderContents.LandscapeFile, Slice(root, 2));
        var files = ReportJob.WriteLandscape(root);
        Assert.Equal(Path.Combine(root, "landscape.html"), files.HtmlPath);
        var page = (LandscapePage)files.Page;
        Assert.Equal(["landscape-1", "connect-1"], page.Charts.Select(c => c.Id));
        Assert.Equal($"Basin landscapes: 1 landscape, 1 connectivity result in {Path.GetFileName(root)}", page.Title);
        Assert.Equal(page.Charts[0].Csv(), File.ReadAllText(Path.Combine(root, "landscape.landscape-1.csv")));
        Assert.Empty(page.Notes);

        var empty = TempFolder();
        Directory.CreateDirectory(empty);
        Assert.StartsWith($"{empty} holds no landscape.json, connect.json nor GAN interpolation results.json",
            Assert.Throws<BasinException>(() => ReportJob.WriteLandscape(empty)).Message);
        Assert.Equal($"no folder {Path.Combine(empty, "nope")}",
            Assert.Throws<BasinException>(() => ReportJob.WriteLandscape(Path.Combine(empty, "nope"))).Message);
        Assert.Empty(Directory.GetFiles(empty));
    }
}
