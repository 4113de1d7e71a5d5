using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Globalization;
using System.Text;

namespace Basin.Experiments.Sweeps;

/// <summary>
/// Writes a sweep report to a folder: ranking.csv and ranking.json (the table), models.csv (every model's settings,
/// gap, training-set size and measure values, derived ones included, trained and reparametrized), and
/// scatter/MEASURE.png (gap against the measure, both variants in one plot; scatter/NAME@m.png for adjusted ones).
/// </summary>
public static class SweepReportFiles
{
    public static IReadOnlyList<string> Write(SweepReportResult report, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        string Put(string name, string text)
        {
            var path = Path.Combine(folder, name);
            AtomicFile.Write(path, s => { var b = Encoding.UTF8.GetBytes(text); s.Write(b, 0, b.Length); });
            written.Add(path);
            return path;
        }
        Put("ranking.json", Json.Serialize(report));
        Put("ranking.csv", RankingCsv(report));
        Put("models.csv", ModelsCsv(report));
        var scatter = Path.Combine(folder, "scatter");
        Directory.CreateDirectory(scatter);
        foreach (var row in report.Ranking)
        {
            var path = Path.Combine(scatter, row.Measure + ".png");
            if (ScatterPlot.Write(report, row.Measure, path)) written.Add(path);
        }
        return written;
    }

    static string F(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    static string RankingCsv(SweepReportResult r)
    {
        var sb = new StringBuilder();
        var header = new List<string> { "measure", "invariance", "cost", "models", "tau", "psi" };
        header.AddRange(r.Axes.Select(a => "psi_" + a));
        header.AddRange(["cmi", "tau_reparametrized", "psi_reparametrized"]);
        header.AddRange(r.Axes.Select(a => "psi_" + a + "_reparametrized"));
        header.AddRange(["cmi_reparametrized", "max_relative_change", "mean_seconds"]);
        sb.AppendLine(string.Join(",", header));
        foreach (var row in r.Ranking)
        {
            var cells = new List<string> { row.Measure, row.Invariance.ToString(), row.Cost.ToString(),
                row.Original.Models.ToString(CultureInfo.InvariantCulture), F(row.Original.Tau), F(row.Original.Psi) };
            cells.AddRange(r.Axes.Select(a => F(row.Original.PsiPerAxis.GetValueOrDefault(a, double.NaN))));
            cells.AddRange([F(row.Original.Cmi), F(row.Reparametrized.Tau), F(row.Reparametrized.Psi)]);
            cells.AddRange(r.Axes.Select(a => F(row.Reparametrized.PsiPerAxis.GetValueOrDefault(a, double.NaN))));
            cells.AddRange([F(row.Reparametrized.Cmi), F(row.MaxRelativeChange), F(row.MeanSeconds)]);
            sb.AppendLine(string.Join(",", cells));
        }
        return sb.ToString();
    }

    static string ModelsCsv(SweepReportResult r)
    {
        var measures = r.Ranking.Select(x => x.Measure).ToArray();
        var settings = r.Models.SelectMany(m => m.Settings.Keys).Distinct().ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", new[] { "point", "run" }.Concat(settings).Append("gap").Append("training_examples")
            .Concat(measures).Concat(measures.Select(m => m + "_reparametrized"))));
        foreach (var m in r.Models)
            sb.AppendLine(string.Join(",", new[] { Quote(m.Key), m.RunId }
                .Concat(settings.Select(s => Quote(m.Settings.GetValueOrDefault(s, ""))))
                .Append(F(m.Gap)).Append(F(m.TrainingExamples)).Concat(measures.Select(x => F(m.Original.GetValueOrDefault(x, double.NaN))))
                .Concat(measures.Select(x => F(m.Reparametrized.GetValueOrDefault(x, double.NaN))))));
        return sb.ToString();
    }

    static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
