using System.Text.Json;

namespace Basin.Experiments.Reports;

/// <summary>
/// One reported state of a GAN run (a per-iteration row of the run database): the critic's estimate of W1
/// (E_real f − E_fake f), the critic's and the generator's losses, the penalty, and the exact W1 where it was measured.
/// A figure that is missing or not finite is null.
/// </summary>
public sealed record GanIteration(int Iteration, double? WassersteinEstimate, double? CriticLoss, double? Penalty, double? GeneratorLoss,
    double? ExactW1);

/// <summary>The curves of GAN runs (kind "gan") against the generator's iteration.</summary>
public static class GanReport
{
    /// <summary>The per-iteration rows of a GAN run, by iteration; rows without an iteration number are skipped.</summary>
    public static IReadOnlyList<GanIteration> Iterations(IEnumerable<JsonElement> rows)
    {
        var byIteration = new SortedDictionary<int, GanIteration>();
        foreach (var e in rows)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("iteration", out var it) || !it.TryGetInt32(out var i)) continue;
            double? N(string name) => e.TryGetProperty(name, out var v) ? RunReport.Number(v) : null;
            byIteration[i] = new GanIteration(i, N("wassersteinEstimate"), N("criticLoss"), N("penalty"), N("generatorLoss"), N("exactW1"));
        }
        return byIteration.Values.ToList();
    }

    /// <summary>
    /// The charts of the GAN runs among <paramref name="runs"/> (those with at least one point): W1 exact and the critic's
    /// estimate, the critic's and generator's losses, and the penalty, against iteration. <paramref name="name"/> names a
    /// run in the charts' data (the legend).
    /// </summary>
    public static IEnumerable<ReportChart> Curves(IReadOnlyList<RunReport> runs, string idPrefix, bool overlaid,
        Func<RunReport, string> name)
    {
        IReadOnlyList<CurvePoint> Points(params (string Series, Func<GanIteration, double?> Value)[] series) =>
            runs.SelectMany(r => series.SelectMany(s => r.Iterations.Where(e => s.Value(e) is not null)
                .Select(e => new CurvePoint(name(r), e.Iteration, s.Series, s.Value(e)!.Value)))).ToList();
        var charts = new[]
        {
            new ReportChart(idPrefix + "wasserstein", "Wasserstein-1: exact and the critic's estimate", "W1",
                Points((ExactSeries, e => e.ExactW1), (EstimateSeries, e => e.WassersteinEstimate)), overlaid),
            new ReportChart(idPrefix + "gan-loss", "Critic and generator losses", "loss",
                Points(("critic", e => e.CriticLoss), ("generator", e => e.GeneratorLoss)), overlaid),
            new ReportChart(idPrefix + "penalty", "The critic's penalty", "penalty", Points(("penalty", e => e.Penalty)), overlaid),
        };
        return charts.Where(c => c.Points.Count > 0).Select(c => c with { XTitle = "iteration" });
    }

    /// <summary>
    /// A GAN run's per-iteration table (HTML, folded; empty for a run with none): every number's exact value in data-value,
    /// named "iteration N FIGURE" in data-figure.
    /// </summary>
    public static string Table(RunReport r)
    {
        if (r.Iterations.Count == 0) return "";
        var h = new System.Text.StringBuilder("<details class=\"iterations\"><summary>Per-iteration states</summary>\n")
            .Append("<table class=\"iterations\">\n<tr><th>iteration</th><th>critic's W1 estimate</th><th>exact W1</th>")
            .Append("<th>critic loss</th><th>generator loss</th><th>penalty</th></tr>\n");
        foreach (var e in r.Iterations)
        {
            string C(string name, double? v) => PageHtml.Num(r.Id, $"iteration {e.Iteration} {name}", v);
            h.Append(System.Globalization.CultureInfo.InvariantCulture, $"<tr><td class=\"num\">{e.Iteration}</td>")
                .Append(C("wassersteinEstimate", e.WassersteinEstimate)).Append(C("exactW1", e.ExactW1))
                .Append(C("criticLoss", e.CriticLoss)).Append(C("generatorLoss", e.GeneratorLoss)).Append(C("penalty", e.Penalty))
                .Append("</tr>\n");
        }
        return h.Append("</table>\n</details>\n").ToString();
    }

    /// <summary>The series names of the Wasserstein chart.</summary>
    public const string ExactSeries = "exact W1", EstimateSeries = "critic's estimate";
}
