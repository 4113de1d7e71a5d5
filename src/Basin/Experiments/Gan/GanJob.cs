using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using System.Diagnostics;
using System.Text.Json;
using Basin.Gan;
using TorchSharp;
using static TorchSharp.torch;
using Generator = Basin.Gan.Generator;

namespace Basin.Experiments.Gan;

/// <summary>Progress of a recorded GAN run: started (or resumed), then the trainer's states.</summary>
public abstract record GanEvent;
public sealed record GanRunStarted(string RunId, string RunFolder, bool Resumed, int StartIteration, int Iterations) : GanEvent
{
    /// <summary>The networks being trained, for a log that reads their weights (<see cref="GanTensorBoardLog"/>); they belong
    /// to the job and are disposed when the run ends.</summary>
    public nn.Module? Generator { get; init; }
    public nn.Module? Critic { get; init; }
}
public sealed record GanStep(WganProgress Progress) : GanEvent;
public sealed record GanMeasuring(string What) : GanEvent;

/// <summary>The final figures of a GAN run. <paramref name="ExactW1"/> for toy data; <paramref name="FrechetDistance"/>
/// for fashion-mnist when a classifier was given (features: its penultimate layer φ).</summary>
public sealed record GanFigures(int Iterations, double WassersteinEstimate, double CriticLoss, double Penalty, double GeneratorLoss,
    double? ExactW1, int? EvaluationCount, double? FrechetDistance, double TrainSeconds);

public sealed record GanJobResult(string RunId, string RunFolder, string WeightsPath, string Generator, string Critic, string Dataset,
    GanFigures Figures, IReadOnlyList<WganProgress> History);

/// <summary>
/// One recorded WGAN run (kind "gan"): checks the spec, records config and versions, trains with checkpoints in the
/// run folder, stores each reported state as a per-iteration metric row, and finishes with the exact W1 (toy data) or
/// the Fréchet distance on a classifier's features (fashion-mnist). Divergence marks the run failed; Ctrl+C writes a
/// checkpoint, marks it cancelled and says how to resume.
/// </summary>
public static class GanJob
{
    public const string Kind = "gan";
    public const string WeightsFile = "gan.safetensors";

    /// <summary>The trained generator's samples (over the real points for toy data; a grid of images), drawn when a run
    /// finishes.</summary>
    public const string SamplesFile = "samples.png";

    public static GanJobResult Run(GanJobSpec spec, RunStore store, IProgress<GanEvent>? progress = null, CancellationToken ct = default,
        int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (threads is { } n) torch.set_num_threads(n);
        using var real = spec.LoadReal();
        using var classifier = spec.Classifier is null ? null : GanClassifier.Load(spec.Classifier, store, [1, 28, 28]);
        var (generator, critic) = spec.CreateNetworks();
        using (generator)
        using (critic)
        {
            var id = RunStore.NewRunId();
            var folder = store.RunFolder(id);
            Directory.CreateDirectory(folder);
            store.Start(new RunRecord(id, Kind, DateTime.UtcNow, generator.Spec + " / " + critic.Spec, spec.Dataset.ToLowerInvariant(),
                spec.Seed, JsonSerializer.Serialize(spec, Json.Options), JsonSerializer.Serialize(LibraryVersions.Current(),
                Json.Options)));
            progress?.Report(new GanRunStarted(id, folder, false, 0, spec.Iterations) { Generator = generator, Critic = critic });
            return Execute(id, folder, spec, generator, critic, real, classifier, 0, store, progress, ct);
        }
    }

    /// <summary>Continues a cancelled or crashed GAN run from its latest checkpoint. The checkpoint holds the optimizers' and
    /// the random generator's state, so the finished run is bit-identical to an uninterrupted one; a checkpoint written
    /// before that state was stored resumes with fresh optimizer moments and a fresh random stream.</summary>
    public static GanJobResult Resume(string runIdOrPrefix, RunStore store, IProgress<GanEvent>? progress = null,
        CancellationToken ct = default, int? threads = null)
    {
        var details = store.Get(runIdOrPrefix);
        var id = details.Summary.Id;
        if (details.Summary.Kind != Kind) throw new BasinException($"run {id} is a {details.Summary.Kind} run, not a GAN run");
        if (details.Summary.Status == RunStatus.Finished) throw new BasinException($"run {id} has already finished; nothing to resume");
        store.LockRun(id);   // a second resume of a run in progress is refused here
        var spec = ReadSpec(details);
        if (threads is { } n) torch.set_num_threads(n);
        var folder = store.RunFolder(id);
        AtomicFile.RemoveStale(folder);
        var checkpoint = LatestCheckpoint(folder) ?? throw new BasinException($"run {id} has no checkpoint in {folder}; start it again " +
            "with 'basin gan train'");
        using var real = spec.LoadReal();
        using var classifier = spec.Classifier is null ? null : GanClassifier.Load(spec.Classifier, store, [1, 28, 28]);
        var (generator, critic) = spec.CreateNetworks();
        using (generator)
        using (critic)
        {
            using var contents = WganCheckpoint.Restore(checkpoint, generator, critic);
            int start = contents.Iteration;
            if (start >= spec.Iterations) throw new BasinException($"run {id}: its checkpoint is already at iteration {start} " +
                $"of {spec.Iterations}");
            store.Reopen(id);
            progress?.Report(new GanRunStarted(id, folder, true, start, spec.Iterations) { Generator = generator, Critic = critic });
            return Execute(id, folder, spec, generator, critic, real, classifier, start, store, progress, ct, contents.TrainerState);
        }
    }

    /// <summary>The spec of a recorded GAN run; a clear error for any other kind of run.</summary>
    public static GanJobSpec ReadSpec(RunDetails details)
    {
        if (details.Summary.Kind != Kind) throw new BasinException($"run {details.Summary.Id} is a {details.Summary.Kind} run, not a GAN " +
            "run (see 'basin runs list')");
        return details.Config.Deserialize<GanJobSpec>(Json.Options) ?? throw new BasinException($"run {details.Summary.Id} " +
            "has no readable config");
    }

    /// <summary>The newest wgan-*.safetensors checkpoint of a run folder, or null.</summary>
    public static string? LatestCheckpoint(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, "wgan-*.safetensors").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault() : null;

    static GanJobResult Execute(string id, string folder, GanJobSpec spec, Generator generator, Critic critic, Tensor real,
        nn.Module<Tensor, Tensor>? classifier, int start, RunStore store, IProgress<GanEvent>? progress, CancellationToken ct,
        WganTrainerState? resumeFrom = null)
    {
        var watch = Stopwatch.StartNew();
        var recording = new Recording(store, id, progress);
        try
        {
            var trainer = new WganTrainer(generator, critic, spec.Training(folder, start));
            var result = trainer.Train(real, recording, ct, resumeFrom);
            var weights = Path.Combine(folder, WeightsFile);
            WganCheckpoint.Save(weights, generator, critic, spec.Iterations);
            GanPlots.Samples(Path.Combine(folder, SamplesFile), $"{spec.Dataset}: generated (orange) and real (grey) points", generator,
                real, spec.IsImage, spec.Seed);
            double? frechet = null;
            if (classifier is not null)
            {
                progress?.Report(new GanMeasuring("Fréchet distance"));
                frechet = Frechet(generator, real, classifier, spec);
            }
            var f = result.Final;
            var figures = new GanFigures(spec.Iterations, f.WassersteinEstimate, f.CriticLoss, f.Penalty, f.GeneratorLoss,
                f.ExactW1, spec.IsImage ? null : (int)Math.Min(spec.EvaluationCount, real.shape[0]), frechet, watch.Elapsed.TotalSeconds);
            store.Finish(id, RunStatus.Finished, figures);
            return new GanJobResult(id, folder, weights, generator.Spec, critic.Spec, spec.Dataset.ToLowerInvariant(), figures,
                result.History);
        }
        catch (OperationCanceledException e)
        {
            var at = e is WganCancelledException w ? $" after {w.CompletedIterations} iterations" : "";
            var hint = $"cancelled{at}; resume with 'basin gan train --resume {id}'";
            store.Finish<object>(id, RunStatus.Cancelled, null, hint);
            throw new OperationCanceledException(hint, e, e.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            store.RecordFailure(id, e);   // any failure, not only bad input, leaves the run failed with its reason
            throw;
        }
    }

    static double Frechet(Generator generator, Tensor real, nn.Module<Tensor, Tensor> classifier, GanJobSpec spec)
    {
        using var scope = torch.NewDisposeScope();
        using var random = new torch.Generator(unchecked((ulong)spec.Seed) ^ 0x5DEECE66DUL);
        int count = (int)Math.Min(Math.Max(spec.EvaluationCount, 2), real.shape[0]);
        var realSubset = real.index(torch.randperm(real.shape[0], generator: random).slice(0, 0, count, 1));
        var fakes = new List<Tensor>();
        using (torch.no_grad())
            for (int done = 0; done < count; done += 256)
                fakes.Add(generator.forward(generator.SampleLatent(Math.Min(256, count - done), random)));
        var fake = torch.cat(fakes, 0);
        var model = (Basin.Models.Classifier)classifier;
        return FrechetDistance.Compute(fake, realSubset, model.Features);
    }

    /// <summary>Stores each reported state as one metrics row (keyed by generator iteration), keeps only the newest
    /// checkpoint file (a 3×512 pair is several MB), then passes the state on.</summary>
    sealed class Recording(RunStore store, string runId, IProgress<GanEvent>? inner) : IProgress<WganProgress>
    {
        public void Report(WganProgress value)
        {
            store.AddEpoch(runId, value.Iteration, value);
            if (value.Checkpoint is { } newest)
                foreach (var old in Directory.GetFiles(Path.GetDirectoryName(newest)!, "wgan-*.safetensors"))
                    if (!string.Equals(Path.GetFullPath(old), Path.GetFullPath(newest), StringComparison.Ordinal)) File.Delete(old);
            inner?.Report(new GanStep(value));
        }
    }
}
