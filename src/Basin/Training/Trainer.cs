using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>
/// Runs a <see cref="Recipe"/>: per batch one evaluation of the objective through the gradient
/// procedure, a NaN/∞ check of the loss, one in-place update at the scheduled rate. Evaluates at epoch
/// ends, writes checkpoints and resumes from them at the exact batch.
///
/// Global torch state it touches, as a training script would: the CPU generator is seeded with
/// <see cref="TrainingConfig.Seed"/> at the start of a fresh run (restored from the checkpoint on resume),
/// and torch's thread count is set to <see cref="TrainingConfig.Threads"/> for the run (and put back after).
///
/// Cancellation is honoured at the next batch boundary: a checkpoint is written (when a path is set),
/// then OperationCanceledException is thrown. A NaN or infinite loss throws DivergenceException before
/// the update that would use it and before any checkpoint of that state.
/// </summary>
public sealed class Trainer
{
    public Trainer(Recipe recipe, TrainingConfig config)
    {
        Recipe = recipe;
        Config = config;
    }

    public Recipe Recipe { get; }
    public TrainingConfig Config { get; }

    public TrainingResult Run(Classifier model, LabeledDataset train, LabeledDataset? test = null,
        IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        if (Config.Resume && Config.CheckpointPath is null) throw new BasinException("resuming needs a checkpoint path");
        if (train.ClassCount != model.ClassCount)
            throw new BasinException($"{train.Name} has {train.ClassCount} classes but the model has {model.ClassCount}");
        if (test is not null && test.ClassCount != model.ClassCount)
            throw new BasinException($"{test.Name} has {test.ClassCount} classes but the model has {model.ClassCount}");
        var device = ParseDevice(Config.Device);
        if (device.type != DeviceType.CPU) model.to(device);

        int threadsBefore = get_num_threads();
        if (Config.Threads is { } threads) set_num_threads(threads);
        Session? run = null;
        try
        {
            run = new Session(this, model, train, test, device, progress);
            return run.Execute(cancellationToken);
        }
        finally
        {
            run?.Dispose();
            if (Config.Threads is not null) set_num_threads(threadsBefore);
        }
    }

    /// <summary>The device a name selects; an unknown device, or CUDA on a build or machine without it, is a BasinException.</summary>
    public static Device ParseDevice(string name)
    {
        Device device;
        if (string.IsNullOrWhiteSpace(name)) throw new BasinException("the device name is empty (use cpu or cuda[:n])");
        bool cudaNamed = name.Trim().StartsWith("cuda", StringComparison.OrdinalIgnoreCase);
        try
        {
            if (cudaNamed && !cuda.is_available())
                throw new BasinException($"device '{name}' asked for, but CUDA is not available to this build (it has CPU libtorch " +
                    "only); use --device cpu");
            device = torch.device(name);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or ExternalException)
        {
            throw new BasinException($"unknown device '{name}' (use cpu or cuda[:n])");
        }
        catch (InvalidOperationException e)
        {
            // TorchSharp throws this when the CUDA backend cannot be loaded.
            throw new BasinException($"device '{name}' asked for, but CUDA is not available to this build: " +
                $"{e.Message.ReplaceLineEndings(" ")}");
        }
        if (device.type == DeviceType.CUDA && !cuda.is_available())
            throw new BasinException($"device '{name}' asked for, but CUDA is not available to this build");
        if (device.type != DeviceType.CPU && device.type != DeviceType.CUDA)
            throw new BasinException($"device '{name}' is not supported (use cpu or cuda[:n])");
        return device;
    }

    /// <summary>The mutable state of one run; the trainer itself stays reusable.</summary>
    sealed class Session : IDisposable
    {
        readonly Trainer _trainer;
        readonly TrainingConfig _config;
        readonly Classifier _model;
        readonly LabeledDataset _train;
        readonly LabeledDataset? _test;
        readonly Device _device;
        readonly bool _onCpu;
        readonly IProgress<TrainingEvent>? _progress;
        readonly NamedParameter[] _parameters;
        readonly IObjectiveTerm[] _terms;
        readonly Objective _objective;
        readonly IGradientProcedure _gradient;
        readonly ILearningRateSchedule _schedule;
        readonly double _baseRate;
        readonly IUpdater _updater;
        readonly DataLoader _loader;
        readonly long _totalSteps;
        readonly List<EpochMetrics> _metrics = [];

        int _epoch, _batch;
        long _step;
        double _objectiveSum, _secondsBefore, _learningRate;
        int _objectiveCount;
        string? _lastCheckpoint;

        public Session(Trainer trainer, Classifier model, LabeledDataset train, LabeledDataset? test, Device device,
            IProgress<TrainingEvent>? progress)
        {
            _trainer = trainer;
            _config = trainer.Config;
            _model = model;
            _train = train;
            _test = test;
            _device = device;
            _onCpu = device.type == DeviceType.CPU;
            _progress = progress;
            _parameters = NamedParameter.Of(model);
            if (_parameters.Length == 0) throw new BasinException("the model has no trainable parameters");
            _terms = trainer.Recipe.Objective.ToArray();
            _objective = new Objective(_terms);
            _gradient = trainer.Recipe.Gradient;
            _schedule = trainer.Recipe.Schedule;
            _baseRate = trainer.Recipe.LearningRate;
            _loader = new DataLoader(train, _config.BatchSize, _config.Shuffle, _config.Seed, _config.DropLast);
            _totalSteps = (long)_loader.BatchesPerEpoch * _config.Epochs;
            _updater = trainer.Recipe.Update.Bind(_parameters);
        }

        public TrainingResult Execute(CancellationToken ct)
        {
            if (_config.Resume && File.Exists(_config.CheckpointPath))
            {
                ResumeFrom(_config.CheckpointPath!);
                if (_batch == 0 && _metrics.Count > 0)
                {
                    if (Reached(_metrics[^1])) return Result(StopReason.ReachedTrainLoss);
                    if (_epoch >= _config.Epochs) return Result(StopReason.Completed);
                }
            }
            else
            {
                manual_seed(_config.Seed);
                // A recipe's stateful terms and procedures may have run before: a fresh run starts them empty.
                foreach (var (_, stage) in StatefulStages()) stage.LoadState(new Dictionary<string, Tensor>());
            }

            _model.train();
            for (; _epoch < _config.Epochs; _epoch++)
            {
                var clock = Stopwatch.StartNew();
                foreach (var batch in _loader.Epoch(_epoch, _batch))
                {
                    using (batch)
                    {
                        if (ct.IsCancellationRequested) Cancel(clock, ct);
                        Step(batch);
                    }
                }
                var metrics = EndEpoch(clock);
                if (Reached(metrics)) return Result(StopReason.ReachedTrainLoss);
            }
            return Result(StopReason.Completed);
        }

        void Step(Batch batch)
        {
            using var scope = NewDisposeScope();
            var onDevice = _onCpu ? batch : new Batch(batch.Inputs.to(_device), batch.Labels.to(_device), batch.Indices.to(_device));
            var position = new TrainingPosition(_epoch, _batch, _step);
            _learningRate = _schedule.At(_baseRate, new ScheduleClock(_step, _loader.BatchesPerEpoch, _totalSteps));
            var context = new GradientContext(_model, _parameters, onDevice, position, part => _objective.Evaluate(_model, _parameters,
                part, position, _train.Count))
            {
                Terms = _terms,
                ExampleCount = _train.Count,
                Progress = _progress,
            };
            var value = _gradient.ComputeGradients(context);
            double loss = value.Total.ToDouble();
            if (!double.IsFinite(loss))
                throw new DivergenceException($"loss became {(double.IsNaN(loss) ? "NaN" : "infinite")} at epoch {_epoch + 1}, batch " +
                    $"{_batch + 1}; last checkpoint: {_lastCheckpoint ?? "none"}");
            _updater.Apply(_learningRate);
            _step++;
            _batch++;
            _objectiveSum += loss;
            _objectiveCount++;
            _progress?.Report(new BatchDone(_epoch + 1, _batch, _loader.BatchesPerEpoch, loss, _step));
            if (_config.CheckpointEveryBatches > 0 && _step % _config.CheckpointEveryBatches == 0 && _batch < _loader.BatchesPerEpoch)
                WriteCheckpoint(_secondsBefore);
        }

        EpochMetrics EndEpoch(Stopwatch clock)
        {
            double seconds = _secondsBefore + clock.Elapsed.TotalSeconds;
            bool evaluate = _config.EvaluateEveryEpoch || _config.StopAtTrainLoss is not null || _epoch == _config.Epochs - 1;
            EpochMetrics metrics;
            double meanObjective = _objectiveCount > 0 ? _objectiveSum / _objectiveCount : double.NaN;
            if (evaluate)
            {
                var tr = Evaluation.Evaluate(_model, _train, _config.EvaluationBatchSize, _device);
                var te = _test is null ? null : Evaluation.Evaluate(_model, _test, _config.EvaluationBatchSize, _device);
                metrics = new EpochMetrics(_epoch + 1, tr.Loss, tr.Accuracy, te?.Loss, te?.Accuracy, te is null ? null : te.Loss - tr.Loss,
                    _learningRate, seconds, _step)
                {
                    AccuracyGap = te is null ? null : tr.Accuracy - te.Accuracy,
                    MeanObjective = meanObjective,
                };
            }
            else
            {
                metrics = new EpochMetrics(_epoch + 1, double.NaN, double.NaN, null, null, null, _learningRate, seconds, _step)
                {
                    MeanObjective = meanObjective,
                    Evaluated = false,
                };
            }
            // Weights that give a NaN or infinite loss on the data are not a result: fail before they are checkpointed.
            if (evaluate && (!double.IsFinite(metrics.TrainLoss) || metrics.TestLoss is { } testLoss && !double.IsFinite(testLoss)))
                throw new DivergenceException($"the evaluation after epoch {_epoch + 1} gives a " +
                    $"{(double.IsFinite(metrics.TrainLoss) ? "test" : "training")} loss of " +
                    $"{(double.IsFinite(metrics.TrainLoss) ? metrics.TestLoss : metrics.TrainLoss)} (the weights are no longer finite or " +
                    $"overflow); last checkpoint: {_lastCheckpoint ?? "none"}");
            _metrics.Add(metrics);
            _batch = 0;
            _objectiveSum = 0;
            _objectiveCount = 0;
            _secondsBefore = 0;
            // The checkpoint comes before the epoch is reported (and recorded): a failure writing it leaves no record of
            // an epoch that a resume could not continue from.
            if (_config.CheckpointPath is not null)
            {
                _epoch++;
                try { WriteCheckpoint(0); }
                finally { _epoch--; }
            }
            _progress?.Report(new EpochDone(metrics));
            return metrics;
        }

        bool Reached(EpochMetrics metrics) =>
            _config.StopAtTrainLoss is { } target && metrics.Evaluated && metrics.TrainLoss <= target;

        [DoesNotReturn]
        void Cancel(Stopwatch clock, CancellationToken ct)
        {
            string where = $"epoch {_epoch + 1}, batch {_batch + 1}";
            if (_config.CheckpointPath is not null)
            {
                WriteCheckpoint(_secondsBefore + clock.Elapsed.TotalSeconds);
                throw new OperationCanceledException($"training cancelled before {where}; checkpoint: {_config.CheckpointPath}", ct);
            }
            throw new OperationCanceledException($"training cancelled before {where}; no checkpoint path was set", ct);
        }

        void WriteCheckpoint(double secondsInEpoch)
        {
            var path = _config.CheckpointPath!;
            var info = new CheckpointInfo(Checkpoint.CurrentFormatVersion, _epoch, _batch, _step, _config.Seed, _train.Count,
                _model.Spec, _trainer.Recipe.Describe(), _config, Checkpoint.CaptureRng(), _metrics.ToArray(),
                new EpochProgress(_objectiveSum, _objectiveCount, secondsInEpoch, _learningRate));
            Checkpoint.Save(path, _model, StageState(), info);
            _lastCheckpoint = path;
            _progress?.Report(new CheckpointWritten(path, _epoch + 1, _batch, _step));
        }

        IEnumerable<KeyValuePair<string, Tensor>> StageState()
        {
            foreach (var (name, t) in _updater.State()) yield return new(Checkpoint.OptimizerPrefix + name, t);
            foreach (var (prefix, stage) in StatefulStages())
                foreach (var (name, t) in stage.State()) yield return new(prefix + name, t);
        }

        IEnumerable<(string Prefix, IStatefulStage Stage)> StatefulStages()
        {
            foreach (var term in _terms)
                if (term is IStatefulStage s) yield return ($"term.{term.Name}.", s);
            if (_gradient is IStatefulStage g) yield return ("grad.", g);
        }

        void ResumeFrom(string path)
        {
            using var checkpoint = Checkpoint.Load(path);
            checkpoint.CheckContinues(_config, _train.Count);
            var info = checkpoint.Info;
            if (info.Batch < 0 || info.Batch >= _loader.BatchesPerEpoch)
                throw new DataFormatException($"{path}: batch {info.Batch} lies outside an epoch of {_loader.BatchesPerEpoch} batches");
            if (info.Epoch < 0 || info.Epoch > _config.Epochs || info.Epoch == _config.Epochs && info.Batch != 0)
                throw new DataFormatException($"{path}: epoch {info.Epoch} lies outside this run's {_config.Epochs} epochs");
            if (info.Step != (long)info.Epoch * _loader.BatchesPerEpoch + info.Batch)
                throw new DataFormatException($"{path}: step {info.Step} does not match epoch {info.Epoch}, batch {info.Batch} of " +
                    $"{_loader.BatchesPerEpoch} batches per epoch");
            if (info.Metrics is null || info.Metrics.Count != info.Epoch)
                throw new DataFormatException($"{path}: it holds the metrics of {info.Metrics?.Count ?? 0} epochs, but " +
                    $"{info.Epoch} are done");
            var progress = info.Progress;
            if (progress is null || progress.ObjectiveCount != info.Batch || !double.IsFinite(progress.ObjectiveSum)
                || !(progress.Seconds >= 0)
                || double.IsInfinity(progress.Seconds) || !(progress.LearningRate >= 0) || double.IsInfinity(progress.LearningRate))
                throw new DataFormatException($"{path}: the progress of the epoch in progress is not valid (batches " +
                    $"{progress?.ObjectiveCount}, loss sum {progress?.ObjectiveSum}, seconds {progress?.Seconds}, learning rate " +
                    $"{progress?.LearningRate})");
            checkpoint.RestoreModel(_model);
            _updater.LoadState(checkpoint.Section(Checkpoint.OptimizerPrefix));
            foreach (var (prefix, stage) in StatefulStages()) stage.LoadState(checkpoint.Section(prefix));
            checkpoint.RestoreRng();
            _epoch = info.Epoch;
            _batch = info.Batch;
            _step = info.Step;
            _metrics.AddRange(info.Metrics);
            _objectiveSum = info.Progress.ObjectiveSum;
            _objectiveCount = info.Progress.ObjectiveCount;
            _secondsBefore = info.Progress.Seconds;
            _learningRate = info.Progress.LearningRate;
            _lastCheckpoint = path;
            _progress?.Report(new Resumed(path, _epoch + 1, _batch, _step) { Finished = info.Metrics.ToArray() });
        }

        TrainingResult Result(StopReason reason) => new(_metrics.ToArray(), reason, _step, _lastCheckpoint);

        public void Dispose() => _updater.Dispose();
    }
}
