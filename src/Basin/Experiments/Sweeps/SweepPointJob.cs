using Basin.Experiments;
using Basin.IO;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using System.Diagnostics;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Measures;
using Basin.Models;
using Basin.Experiments.Gan;
using Basin.Training;

namespace Basin.Experiments.Sweeps;

/// <summary>
/// One sweep point, made complete: its run is trained (or resumed from its checkpoint, or skipped when already
/// finished), then every chosen measure that is not yet stored is computed on the trained model and on a randomly
/// reparametrized copy of it, and stored as soon as it is known — so a kill loses at most the measure in progress.
/// With a <c>tensorboard</c> folder the training it does (not a point already trained) is logged into FOLDER/RUN-ID.
/// </summary>
public static class SweepPointJob
{
    public static void Run(SweepDefinition sweep, SweepPoint point, string? runId, RunStore runs, SweepStore store, string worker,
        int? threads, IProgress<SweepEvent>? progress, CancellationToken ct, string? tensorboard = null)
    {
        var clock = Stopwatch.StartNew();
        runId = Train(sweep, point, runId, runs, store, threads, tensorboard, ct);
        progress?.Report(new PointTrained(point.Key, runId, clock.Elapsed.TotalSeconds));
        Measure(sweep, point, runId, runs, store, progress, ct);
    }

    static string Train(SweepDefinition sweep, SweepPoint point, string? runId, RunStore runs, SweepStore store, int? threads,
        string? tensorboard, CancellationToken ct)
    {
        if (runId is not null)
        {
            var run = runs.Get(runId);
            var folder = runs.RunFolder(runId);
            if (run.Summary.Status == RunStatus.Finished && File.Exists(Path.Combine(folder, TrainingJob.WeightsFile))) return runId;
            if (File.Exists(Path.Combine(folder, TrainingJob.CheckpointFile)))
            {
                if (run.Summary.Status == RunStatus.Finished) runs.Reopen(runId);
                TrainingJob.Resume(runId, runs, TensorBoardLog.Wrap(tensorboard, null), ct, threads);
                return runId;
            }
            // Killed before its first checkpoint: nothing to continue from, so the point starts a new run.
            runs.Finish<object>(runId, RunStatus.Cancelled, null, $"abandoned by sweep '{sweep.Name}' before its first checkpoint; point " +
                $"{point.Key} was restarted");
        }
        var recorder = new RunIdRecorder(id => store.SetRun(sweep.Name, point.Key, id));
        return TrainingJob.Run(point.Spec, runs, TensorBoardLog.Wrap(tensorboard, recorder), ct, threads).RunId;
    }

    sealed class RunIdRecorder(Action<string> onStart) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is RunStarted started) onStart(started.RunId);
        }
    }

    static void Measure(SweepDefinition sweep, SweepPoint point, string runId, RunStore runs, SweepStore store,
        IProgress<SweepEvent>? progress, CancellationToken ct)
    {
        var measures = MeasureRegistry.Select(sweep.Measures);
        var have = runs.Measures(runId).Select(m => (m.Measure, m.Variant)).ToHashSet();
        if (measures.All(m => have.Contains((m.Name, RunStore.OriginalVariant))
            && have.Contains((m.Name, RunStore.ReparametrizedVariant)))) return;

        var spec = point.Spec;
        var (train, test) = TrainingJob.LoadData(spec);
        using var _train = train;
        test.Dispose();
        var options = sweep.MeasureOptions with { StepsTargetLoss = spec.StopAtTrainLoss ?? sweep.MeasureOptions.StepsTargetLoss };
        using var data = train.Take(Math.Min(train.Count, options.Samples ?? train.Count));
        using var model = ModelSpec.Create(spec.Model, train.ExampleShape, train.ClassCount, spec.Seed);
        Weights.Load(model, Path.Combine(runs.RunFolder(runId), TrainingJob.WeightsFile));
        using var initial = ModelSpec.Create(spec.Model, train.ExampleShape, train.ClassCount, spec.Seed);
        var curve = runs.Get(runId).Epochs
            .Where(e => !e.TryGetProperty("evaluated", out var ev) || ev.GetBoolean())
            .Select(e => new CurvePoint(e.GetProperty("steps").GetInt64(), e.GetProperty("trainLoss").GetDouble())).ToArray();
        using var copy = Reparametrization.Copy(model);
        Reparametrization.Random(copy, unchecked(sweep.Reparametrization.Seed * 1_000_003 + StableHash(point.Key)),
            sweep.Reparametrization.NeuronWise, sweep.Reparametrization.MaxFactor);

        foreach (var (variant, m) in new[] { (RunStore.OriginalVariant, model), (RunStore.ReparametrizedVariant, (Classifier)copy) })
        {
            var context = new MeasureContext(m, data) { Initial = initial, Curve = curve, Options = options, CancellationToken = ct };
            foreach (var measure in measures)
            {
                if (have.Contains((measure.Name, variant))) continue;
                ct.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                double? value = null;
                string? message = null;
                try { value = measure.Compute(context); }
                catch (BasinException e) { message = e.Message; }
                runs.StoreMeasure(runId, variant, measure.Name, value, clock.Elapsed.TotalSeconds, message);
                progress?.Report(new MeasureComputed(point.Key, measure.Name, variant, value, clock.Elapsed.TotalSeconds, message));
            }
        }
    }

    /// <summary>FNV-1a of the point key: the same key gets the same reparametrization in every process and run.</summary>
    static long StableHash(string s)
    {
        ulong h = 14695981039346656037;
        foreach (char c in s) { h ^= c; h *= 1099511628211; }
        return (long)(h >> 1);
    }
}
