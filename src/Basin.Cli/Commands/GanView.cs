using System.Globalization;
using Basin.Gan;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>
/// Renders GAN work: a Spectre.Console progress bar (with the time left) on a terminal; when output is redirected, a line
/// per reported state, the iteration lines with the time left at the pace so far; with --json (stdout is data then)
/// those lines go to stderr, at most one every 10 s.
/// </summary>
public static class GanView
{
    public static T Run<T>(bool json, string title, Func<IProgress<object>, T> work)
    {
        if (json)
        {
            var since = System.Diagnostics.Stopwatch.StartNew();
            var paced = new Pace();
            return work(new Sink(e =>
            {
                if (paced.Line(title, e) is not { } l || since.Elapsed < GeometryCommand.PeriodicProgress) return;
                Console.Error.WriteLine(l);
                since.Restart();
            }));
        }
        var pace = new Pace();
        if (!Cli.Interactive(json)) return work(new Sink(e => { if (pace.Line(title, e) is { } l) Console.WriteLine(l); }));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(),
            new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1);
                result = work(new Sink(e =>
                {
                    switch (e)
                    {
                        case GanRunStarted s:
                            task.MaxValue = s.Iterations;
                            task.Value = s.StartIteration;
                            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(Line(title, e)!)}[/]");
                            break;
                        case GanStep g:
                            task.Value = g.Progress.Iteration;
                            task.Description = Markup.Escape(Line(title, e)!);
                            break;
                        case GanComparisonStarted c:
                            task.MaxValue = c.RunCount;
                            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(Line(title, e)!)}[/]");
                            break;
                        case WganComparisonProgress p:
                            task.Value = p.Run;
                            AnsiConsole.MarkupLine(Markup.Escape(Line(title, e)!));
                            break;
                        case InterpolationStep i:
                            task.MaxValue = i.Of;
                            task.Value = i.Done;
                            break;
                    }
                }));
                task.Value = task.MaxValue;
            });
        return result;
    }

    static string? Line(string title, object e)
    {
        var inv = CultureInfo.InvariantCulture;
        return e switch
        {
            GanRunStarted s => $"{title}: {(s.Resumed ? $"resuming at iteration {s.StartIteration}" : "run")} {s.RunId} ({s.RunFolder})",
            GanStep { Progress: var p } => $"{title}: iteration {p.Iteration}/{p.TotalIterations}  critic W estimate " +
                $"{p.WassersteinEstimate.ToString("F4", inv)}"
                + $"  penalty {p.Penalty.ToString("F4", inv)}" + (p.ExactW1 is { } w ? $"  exact W1 {w.ToString("F4", inv)}" : ""),
            GanComparisonStarted c => $"{title}: run {c.RunId}, {c.RunCount} GANs to train",
            WganComparisonProgress p => $"{title}: {p.Run}/{p.RunCount} {GanComparisonJob.PenaltyName(p.Row.Regularization)}"
                + (p.Row.Lambda is { } l ? $" λ={l.ToString(inv)}" : "") + $" seed {p.Row.Seed}: W1 " +
                $"{p.Row.InitialW1.ToString("F4", inv)} → {p.Row.FinalW1.ToString("F4", inv)}"
                + (p.Row.Diverged ? " (diverged)" : ""),
            GanMeasuring m => $"{title}: measuring the {m.What}",
            _ => null,
        };
    }

    /// <summary>Lines with the time left of a run's iterations, at the mean pace since it started (or resumed).</summary>
    sealed class Pace
    {
        readonly System.Diagnostics.Stopwatch clock = new();
        int start;

        public string? Line(string title, object e)
        {
            if (e is GanRunStarted s) { start = s.StartIteration; clock.Restart(); }
            var line = GanView.Line(title, e);
            if (e is not GanStep { Progress: var p } || line is null || !clock.IsRunning) return line;
            // Step (done + 1) of the run's (total − start) iterations: TimeLeft's mean pace over the done ones.
            return line + GeometryCommand.TimeLeft(clock.Elapsed, p.Iteration - start + 1, p.TotalIterations - start)
                .Replace(", about", "  about", StringComparison.Ordinal);
        }
    }

    sealed class Sink(Action<object> onEvent) : IProgress<object>, IProgress<GanEvent>
    {
        public void Report(object value) => onEvent(value);
        public void Report(GanEvent value) => onEvent(value);
    }
}
