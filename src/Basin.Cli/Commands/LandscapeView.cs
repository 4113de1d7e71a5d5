using Basin.Experiments.Landscape;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>A progress bar for landscape jobs on a terminal; nothing when piped or with --json.</summary>
static class LandscapeView
{
    public static T Run<T>(bool json, string title, Func<IProgress<LandscapeProgress>?, T> work)
    {
        if (!Cli.Interactive(json)) return work(null);
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(),
            new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1);
                result = work(new Reporter(p =>
                {
                    task.Description = Markup.Escape($"{title}: {p.Phase}");
                    task.MaxValue = Math.Max(1, p.Of);
                    task.Value = p.Done;
                }));
            });
        return result;
    }

    sealed class Reporter(Action<LandscapeProgress> report) : IProgress<LandscapeProgress>
    {
        public void Report(LandscapeProgress value) => report(value);
    }
}
