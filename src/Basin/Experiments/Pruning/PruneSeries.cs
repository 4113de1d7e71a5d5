using System.Text.Json;
using Basin.IO;

namespace Basin.Experiments.Pruning;

/// <summary>A round run of a pruning series that did not finish (cancelled, failed or interrupted): a resume continues it.</summary>
public sealed record UnfinishedRound(int Round, string RunId, string Status);

/// <summary>
/// The rounds one pruning job recorded (they share the series id <see cref="Id"/>, the id of its round-1 run), found
/// from any of its round runs: the job's settings, its finished rounds 1..k in order, and the round k + 1 that did not
/// finish, if one was recorded. <see cref="PruneJob.Resume"/> continues from here.
/// </summary>
public sealed record PruneSeries(string Id, PruneSpec Spec, IReadOnlyList<PruneRound> Finished, UnfinishedRound? Unfinished)
{
    /// <summary>How many rounds the job runs (1 for a one-shot method).</summary>
    public int Of => Spec.Rounds ?? 1;

    /// <summary>The series of the round run <paramref name="runIdOrPrefix"/>; a BasinException when there is nothing to resume.</summary>
    public static PruneSeries Find(RunStore store, string runIdOrPrefix)
    {
        var details = store.Get(runIdOrPrefix);
        var id = details.Summary.Id;
        if (details.Summary.Kind != PruneJob.Kind)
            throw new BasinException($"run {id} is a {details.Summary.Kind} run, not a round of 'basin prune'; nothing to resume");
        if (!details.Config.TryGetProperty("series", out var s) || s.GetString() is not { Length: > 0 } series)
            throw new BasinException($"run {id} was recorded before pruning jobs could be resumed (it has no series id); " +
                "start the job again");
        var spec = details.Config.GetProperty("prune").Deserialize<PruneSpec>(Json.Options)!.Validated();
        int of = spec.Rounds ?? 1;

        var members = new List<(int Round, RunSummary Run)>();
        foreach (var run in store.List(method: spec.Method).Where(r => r.Kind == PruneJob.Kind))
        {
            var config = run.Id == id ? details.Config : store.Get(run.Id).Config;
            if (config.TryGetProperty("series", out var other) && other.GetString() == series)
                members.Add((config.GetProperty("round").GetInt32(), run));
        }
        members.Sort((a, b) => a.Round.CompareTo(b.Round));
        var finished = new List<PruneRound>();
        UnfinishedRound? unfinished = null;
        for (int i = 0; i < members.Count; i++)
        {
            var (round, run) = members[i];
            if (round != i + 1)
                throw new BasinException($"pruning series {series} has no run for round {i + 1} (it records rounds " +
                    $"{string.Join(", ", members.Select(m => m.Round))}); it cannot be resumed");
            if (unfinished is not null)
                throw new BasinException($"pruning series {series}: round {unfinished.Round} (run {unfinished.RunId}) is " +
                    $"{unfinished.Status} but round {round} was recorded after it; it cannot be resumed");
            if (run.Status == RunStatus.Running)
                throw new BasinException($"round {round} of pruning series {series} (run {run.Id}) is still running; wait for it " +
                    "to end or stop it (Ctrl+C)");
            if (run.Status == RunStatus.Finished) finished.Add(run.Final!.Value.Deserialize<PruneRound>(Json.Options)!);
            else unfinished = new UnfinishedRound(round, run.Id, run.Status);
        }
        if (unfinished is null && finished.Count >= of)
            throw new BasinException($"pruning series {series} has finished (round {of} of {of}: run {finished[^1].RunId}); " +
                "nothing to resume");
        return new PruneSeries(series, spec, finished, unfinished);
    }
}
