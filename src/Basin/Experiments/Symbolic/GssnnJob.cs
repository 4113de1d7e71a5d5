using System.Text.Json;
using Basin.IO;
using Basin.Symbolic;

namespace Basin.Experiments.Symbolic;

/// <summary>
/// A G-SSNN study or population as a recorded run: the spec as its config, each finished training as one row (so
/// `runs show` lists them and an interrupted run keeps them), the result as its final figures and RUN/result.json.
/// Resuming a cancelled, failed or interrupted run takes its finished trainings as they are (training is deterministic)
/// and trains the rest.
/// </summary>
public static class GssnnJob
{
    public const string StudyKind = "gssnn-study";
    public const string PopulationKind = "gssnn-population";
    public const string ResultFile = "result.json";

    /// <summary>One finished training as stored in the run's rows.</summary>
    public sealed record TrainingRow(int Index, string Arm, long Seed, FewShotResult Result);

    /// <summary>The spec a recorded study or population was started with (to resume it without repeating its options).</summary>
    public static T StoredSpec<T>(RunStore store, string run)
    {
        ArgumentNullException.ThrowIfNull(store);
        var details = store.Get(run);
        return details.Config.Deserialize<T>(Json.Options) ?? throw new BasinException($"run {details.Summary.Id} has no spec");
    }

    public static (string RunId, GssnnStudyResult Result) Study(GssnnStudySpec spec, RunStore store, string? resume,
        IProgress<GssnnProgress>? progress = null, CancellationToken ct = default) =>
        Record(store, StudyKind, spec, resume, $"{spec.Task}, D {spec.Dimension}", progress, ct,
            (finished, p) => GssnnStudy.Run(spec, p, ct, finished));

    public static (string RunId, GssnnPopulationResult Result) Population(GssnnPopulationSpec spec, RunStore store, string? resume,
        IProgress<GssnnProgress>? progress = null, CancellationToken ct = default) =>
        Record(store, PopulationKind, spec, resume, $"{spec.Bench.Task}, D {spec.Bench.Dimension}", progress, ct,
            (finished, p) => GssnnPopulation.Run(spec, p, ct, finished));

    static (string, T) Record<TSpec, T>(RunStore store, string kind, TSpec spec, string? resume, string model,
        IProgress<GssnnProgress>? progress, CancellationToken ct,
        Func<IReadOnlyDictionary<(string, long), FewShotResult>, IProgress<GssnnProgress>, T> run)
    {
        var config = JsonSerializer.Serialize(spec, Json.Options);
        string id;
        var finished = new Dictionary<(string, long), FewShotResult>();
        if (resume is null)
        {
            id = RunStore.NewRunId();
            Directory.CreateDirectory(store.RunFolder(id));
            store.Start(new RunRecord(id, kind, DateTime.UtcNow, model, "fashion-mnist", 0, config,
                JsonSerializer.Serialize(LibraryVersions.Current(), Json.Options)));
        }
        else
        {
            var earlier = store.Get(resume);
            id = earlier.Summary.Id;
            if (earlier.Summary.Kind != kind)
                throw new BasinException($"run {id} is a {earlier.Summary.Kind} run, not a {kind} run");
            if (earlier.Summary.Status == RunStatus.Finished) throw new BasinException($"run {id} is already finished");
            if (earlier.Config.GetRawText() != JsonDocument.Parse(config).RootElement.GetRawText())
                throw new BasinException($"run {id} was started with other settings; resume it with the same options");
            store.LockRun(id);
            store.Reopen(id);
            foreach (var row in earlier.Epochs.Select(e => e.Deserialize<TrainingRow>(Json.Options)!))
                finished[(row.Arm, row.Seed)] = row.Result;
        }
        var recording = new Recording(store, id, progress);
        try
        {
            var result = run(finished, recording);
            AtomicFile.WriteAllText(Path.Combine(store.RunFolder(id), ResultFile), Json.Serialize(result));
            store.Finish(id, RunStatus.Finished, new { trainings = recording.Count });
            return (id, result);
        }
        catch (OperationCanceledException e)
        {
            store.Finish<object>(id, RunStatus.Cancelled, null, $"cancelled after {recording.Count} trainings; resume with --resume {id}");
            throw new OperationCanceledException($"cancelled; the {recording.Count} finished trainings are in run {id} (--resume {id})", e,
                e.CancellationToken);
        }
        catch (Exception e)
        {
            store.RecordFailure(id, e);
            throw;
        }
    }

    sealed class Recording(RunStore store, string id, IProgress<GssnnProgress>? inner) : IProgress<GssnnProgress>
    {
        public int Count { get; private set; }

        public void Report(GssnnProgress value)
        {
            Count = value.Done;
            if (!value.Reused) store.AddEpoch(id, value.Done, new TrainingRow(value.Done, value.Arm, value.Seed, value.Result));
            inner?.Report(value);
        }
    }
}
