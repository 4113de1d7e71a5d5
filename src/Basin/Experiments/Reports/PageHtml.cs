using System.Globalization;
using System.Net;
using System.Text;

namespace Basin.Experiments.Reports;

/// <summary>
/// The HTML of a report: tables of each run (labels, notes, final figures, measures, per-epoch metrics, config, versions),
/// the comparison table, and the charts drawn by Vega-Lite through vega-embed, whose builds are inlined (see
/// vendor/README.md). Every number shown carries its exact value in data-value, for readers and tests.
/// </summary>
static class PageHtml
{
    static readonly string[] Scripts = ["vega.min.js", "vega-lite.min.js", "vega-embed.min.js"];
    static readonly Lazy<string> InlineScripts = new(() => string.Concat(Scripts.Select(name => $"<script>{Vendored(name)}</script>\n")));

    static string Vendored(string name)
    {
        using var stream = typeof(PageHtml).Assembly.GetManifestResourceStream("Basin.Reports." + name)
            ?? throw new InvalidOperationException($"the chart library {name} is not embedded in Basin");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        // Inlined in a <script> element, the text must not end it early.
        if (text.Contains("</script", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"the chart library {name} contains '</script' and cannot be inlined");
        return text;
    }

    const string Style = """
        body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1240px; padding: 0 1em; color: #222; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
        table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .2em .7em; border-bottom: 1px solid #eee; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f6f6f6; }
        .diff { color: #666; font-size: .9em; } .notes { background: #fff6e0; border-left: 4px solid #e0a000; padding: .5em 2em; }
        .charts { display: flex; flex-wrap: wrap; gap: 1em; } .chart { min-height: 300px; }
        figure { margin: 0; max-width: 49%; } figcaption { overflow-wrap: anywhere; }
        table.sortable th { cursor: pointer; white-space: nowrap; } table.sortable { font-size: .92em; }
        .wide { overflow-x: auto; } .vega-bindings { margin: .3em 0; } .vega-bind { display: inline-block; margin-right: 1.2em; }
        pre { background: #f6f6f6; padding: .7em; overflow-x: auto; } .meta { color: #666; }
        """;

    public static string Render(string title, IReadOnlyList<RunReport> runs, bool compare, IReadOnlyList<ReportChart> charts,
        IReadOnlyList<TableChart> methodCharts, IReadOnlyList<ComparisonRow> comparison, DateTime generatedUtc, string version,
        string fileStem, IReadOnlyList<PageSection>? sections = null)
    {
        var h = new StringBuilder();
        if (compare) Comparison(h, runs, comparison);
        if (compare) Charts(h, charts, "Curves, overlaid", fileStem);
        IEnumerable<PageChart> Own(IEnumerable<PageChart> list, RunReport r) =>
            runs.Count == 1 ? list : list.Where(c => c.Id.StartsWith(r.Id + ".", StringComparison.Ordinal));
        for (int i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            Run(h, r);
            if (!compare) Charts(h, Own(charts, r), "Curves", fileStem);
            Charts(h, Own(methodCharts, r), "Method", fileStem);
            if (sections?[i] is { } s) h.Append(s.Html);
        }
        return Document(title, h.ToString(), [.. charts, .. methodCharts, .. sections?.SelectMany(s => s.Charts) ?? []], generatedUtc,
            version);
    }

    /// <summary>
    /// A whole page: the title, a line on who made it and how to use its charts, <paramref name="body"/> (HTML), the inlined
    /// chart libraries, each chart's spec and the script that draws them (it sets body's data-charts to "rendered" or
    /// "failed"), and the sorting of every table of class "sortable" by a click on its header.
    /// </summary>
    public static string Document(string title, string body, IReadOnlyList<PageChart> charts, DateTime generatedUtc, string version)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append($"<title>{E(title)}</title>\n<style>\n{Style}</style>\n</head>\n<body>\n")
            .Append($"<h1>{E(title)}</h1>\n")
            .Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">Made by Basin {E(version)} on {generatedUtc:yyyy-MM-dd HH:mm} UTC. ")
            .Append("Charts: hover for values, drag to pan, scroll to zoom, click a legend entry to pick a series (shift-click for ")
            .Append("more), double-click to reset. Each chart's data is in a CSV file beside this page.</p>\n")
            .Append(body);
        h.Append(InlineScripts.Value);
        foreach (var c in charts)
            h.Append($"<script type=\"application/json\" id=\"spec-{E(c.Id)}\">{c.Spec().ToJsonString()}</script>\n");
        h.Append("<script>\n(function () {\n  const ids = ")
            .Append(System.Text.Json.JsonSerializer.Serialize(charts.Select(c => c.Id).ToArray()))
            .Append("""
            ;
              const errors = [];
              Promise.all(ids.map(function (id) {
                const el = document.getElementById('chart-' + id);
                const spec = JSON.parse(document.getElementById('spec-' + id).textContent);
                return vegaEmbed(el, spec, { renderer: 'svg', actions: false, mode: 'vega-lite' }).catch(function (e) {
                  errors.push(id + ': ' + e);
                  el.textContent = 'This chart could not be drawn: ' + e;
                });
              })).then(function () {
                document.body.dataset.charts = errors.length ? 'failed' : 'rendered';
                if (errors.length) document.body.dataset.chartErrors = errors.join('; ');
              });
              document.querySelectorAll('table.sortable th').forEach(function (th) {
                th.title = 'click to sort';
                th.addEventListener('click', function () {
                  const table = th.closest('table'), col = Array.prototype.indexOf.call(th.parentNode.children, th);
                  const rows = Array.from(table.querySelectorAll('tr')).slice(1);
                  const down = table.dataset.sortColumn == col && table.dataset.sortOrder != 'descending';
                  const key = function (tr) {
                    const td = tr.children[col], v = td && td.dataset.value;
                    return v !== undefined && v !== '' ? parseFloat(v) : td ? td.textContent : '';
                  };
                  rows.sort(function (a, b) {
                    const x = key(a), y = key(b);
                    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
                    return down ? -c : c;
                  });
                  table.dataset.sortColumn = col;
                  table.dataset.sortOrder = down ? 'descending' : 'ascending';
                  rows.forEach(function (tr) { tr.parentNode.appendChild(tr); });
                });
              });
            })();
            </script>
            </body>
            </html>

            """);
        return h.ToString();
    }

    static void Comparison(StringBuilder h, IReadOnlyList<RunReport> runs, IReadOnlyList<ComparisonRow> rows)
    {
        h.Append("<section id=\"comparison\">\n<h2>Final figures</h2>\n<p>Differences are from the first run, ")
            .Append($"{E(runs[0].Id)} ({E(ReportPage.Label(runs[0]))}).</p>\n<table id=\"final-figures\">\n<tr><th>figure</th>");
        foreach (var r in runs) h.Append($"<th>{E(r.Method)}<br><span class=\"meta\">{E(r.Id)}</span></th>");
        h.Append("</tr>\n");
        foreach (var row in rows)
        {
            h.Append($"<tr><th>{E(row.Figure)}</th>");
            var diffs = row.Differences;
            for (int i = 0; i < runs.Count; i++)
            {
                var diff = diffs[i] is { } d ? $" <span class=\"diff\">({E(ReportPage.ShowDifference(d))})</span>" : "";
                h.Append(Num(runs[i].Id, row.Figure, row.Values[i], diff));
            }
            h.Append("</tr>\n");
        }
        h.Append("</table>\n</section>\n");
    }

    /// <summary>What a page could not show or had to draw from elsewhere, as a highlighted list (nothing when none).</summary>
    public static void Notes(StringBuilder h, IReadOnlyList<string> notes)
    {
        if (notes.Count == 0) return;
        h.Append("<ul class=\"notes\">\n");
        foreach (var n in notes) h.Append($"<li>{E(n)}</li>\n");
        h.Append("</ul>\n");
    }

    /// <summary>A heading and a figure per chart (an element the chart is drawn into, and its CSV file's name).</summary>
    public static void Charts(StringBuilder h, IEnumerable<PageChart> charts, string heading, string fileStem)
    {
        var list = charts.ToList();
        if (list.Count == 0) return;
        h.Append($"<h3>{E(heading)}</h3>\n<div class=\"charts\">\n");
        foreach (var c in list)
            h.Append($"<figure><div class=\"chart\" id=\"chart-{E(c.Id)}\"></div><figcaption class=\"meta\">data: ")
                .Append($"<span class=\"csv\">{E(fileStem)}.{E(c.Id)}.csv</span></figcaption></figure>\n");
        h.Append("</div>\n");
    }

    static void Run(StringBuilder h, RunReport r)
    {
        h.Append($"<section class=\"run\" id=\"run-{E(r.Id)}\">\n<h2>Run {E(r.Id)}: {E(ReportPage.Label(r))}</h2>\n");
        Notes(h, r.Notes);
        h.Append("<table class=\"summary\">\n");
        void Row(string name, string? value) =>
            h.Append($"<tr><th>{E(name)}</th><td data-field=\"{E(name)}\">{E(value ?? "–")}</td></tr>\n");
        Row("kind", r.Kind);
        Row("status", r.Status);
        Row("method", r.Method);
        Row("model", r.Model);
        Row("dataset", r.Dataset);
        Row("seed", r.Seed.ToString(CultureInfo.InvariantCulture));
        Row("started", r.CreatedUtc.ToString("u", CultureInfo.InvariantCulture));
        Row("ended", r.FinishedUtc?.ToString("u", CultureInfo.InvariantCulture));
        if (r.Message is { } message) Row("message", message);
        h.Append("</table>\n");
        if (r.Final.Count > 0)
        {
            h.Append("<h3>Final figures</h3>\n<table class=\"final\">\n");
            foreach (var f in r.Final) h.Append($"<tr><th>{E(f.Name)}</th>{Num(r.Id, f.Name, f.Value)}</tr>\n");
            h.Append("</table>\n");
        }
        if (r.Measures.Count > 0)
        {
            h.Append("<h3>Measures</h3>\n<table class=\"measures\">\n<tr><th>measure</th><th>variant</th><th>value</th>")
                .Append("<th>seconds</th><th>note</th></tr>\n");
            foreach (var m in r.Measures)
                h.Append($"<tr><td>{E(m.Measure)}</td><td>{E(m.Variant)}</td>{Num(r.Id, $"{m.Measure} ({m.Variant})", m.Value)}")
                    .Append($"<td class=\"num\">{m.Seconds.ToString("F2", CultureInfo.InvariantCulture)}</td>")
                    .Append($"<td>{E(m.Message ?? "")}</td></tr>\n");
            h.Append("</table>\n");
        }
        if (r.Epochs.Count > 0)
        {
            h.Append("<details class=\"epochs\"><summary>Per-epoch metrics</summary>\n<table class=\"epochs\">\n<tr><th>epoch</th>")
                .Append("<th>train loss</th><th>test loss</th><th>train accuracy</th><th>test accuracy</th><th>gap (loss)</th>")
                .Append("<th>gap (accuracy)</th><th>learning rate</th></tr>\n");
            foreach (var e in r.Epochs)
            {
                string C(string name, double? v) => Num(r.Id, $"epoch {e.Epoch} {name}", v);
                h.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"num\">{e.Epoch}</td>{C("trainLoss", e.TrainLoss)}")
                    .Append($"{C("testLoss", e.TestLoss)}{C("trainAccuracy", e.TrainAccuracy)}{C("testAccuracy", e.TestAccuracy)}")
                    .Append($"{C("gap", e.Gap)}{C("accuracyGap", e.AccuracyGap)}{C("learningRate", e.LearningRate)}</tr>\n");
            }
            h.Append("</table>\n</details>\n");
        }
        h.Append($"<details class=\"config\"><summary>Config</summary>\n<pre>{E(r.ConfigJson)}</pre>\n</details>\n");
        if (r.Versions.Count > 0)
        {
            h.Append("<details class=\"versions\"><summary>Versions</summary>\n<table>\n");
            foreach (var (k, v) in r.Versions) h.Append($"<tr><th>{E(k)}</th><td>{E(v)}</td></tr>\n");
            h.Append("</table>\n</details>\n");
        }
        h.Append("</section>\n");
    }

    /// <summary>
    /// A number's cell: shown with 6 significant digits (then <paramref name="after"/>, HTML), its exact (round-trip) value
    /// in data-value.
    /// </summary>
    public static string Num(string run, string figure, double? v, string after = "") =>
        NumberCell(run, figure, v, E(ReportPage.Show(v)) + after);

    /// <summary>
    /// A number's cell shown in <paramref name="format"/> (a table of scores: "0.000"), its exact value in data-value; a
    /// non-finite number is shown as "–" with an empty data-value.
    /// </summary>
    public static string Fixed(string run, string figure, double v, string format = "0.000") =>
        double.IsFinite(v) ? NumberCell(run, figure, v, v.ToString(format, CultureInfo.InvariantCulture))
            : NumberCell(run, figure, null, "–");

    /// <summary>A number's cell: its exact value (round-trip) in data-value, <paramref name="shownHtml"/> as its text.</summary>
    static string NumberCell(string run, string figure, double? exact, string shownHtml) =>
        $"<td class=\"num\" data-run=\"{E(run)}\" data-figure=\"{E(figure)}\" data-value=\"" +
        $"{(exact is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "")}\">{shownHtml}</td>";

    public static string E(string s) => WebUtility.HtmlEncode(s);
}
