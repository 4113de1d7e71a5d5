using Basin.Training;
using Basin.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// Trains a Wasserstein GAN: per generator iteration, k critic steps minimizing E_fake f − E_real f + λ·P
/// (or the plain loss followed by weight clipping), then one generator step minimizing −E_fake f.
/// Real minibatches are drawn uniformly with replacement from the given data. The networks are trained in place.
/// </summary>
public sealed class WganTrainer
{
    readonly Generator generator;
    readonly Critic critic;

    public WganTrainer(Generator generator, Critic critic, WganConfig config)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(critic);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (!generator.SampleShape.SequenceEqual(critic.SampleShape))
            throw new BasinException($"generator {generator.Spec} makes samples [{string.Join(",", generator.SampleShape)}] but critic " +
                $"{critic.Spec} takes [{string.Join(",", critic.SampleShape)}]");
        this.generator = generator;
        this.critic = critic;
        Config = config;
    }

    public WganConfig Config { get; }

    /// <param name="real">Real samples [N, ...sample shape], float32.</param>
    /// <param name="resumeFrom">The trainer state of the checkpoint the networks were loaded from
    /// (<see cref="WganCheckpoint.Restore"/>); it must be at <see cref="WganConfig.StartIteration"/>. With it the run
    /// continues bit-identically to one that was never interrupted. Without it, a run with StartIteration &gt; 0 (an old
    /// checkpoint that has no trainer state) starts fresh optimizer moments and a fresh random stream.</param>
    /// <exception cref="DivergenceException">A critic or generator loss became NaN or infinite; the message names the
    /// iteration.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the networks keep their state at that point.</exception>
    public WganResult Train(Tensor real, IProgress<WganProgress>? progress = null, CancellationToken cancellationToken = default,
        WganTrainerState? resumeFrom = null)
    {
        CheckRealData(real);
        var config = Config;
        CheckResumeState(resumeFrom);
        using var random = new torch.Generator(config.StartIteration == 0 || resumeFrom is not null ? unchecked((ulong)config.Seed)
            : unchecked((ulong)config.Seed * 1_000_003UL + (ulong)config.StartIteration));
        var criticParameters = NamedParameter.Of(critic);
        var generatorParameters = NamedParameter.Of(generator);
        using var criticOptimizer = UpdateRule(Config.Optimizer).Bind(criticParameters);
        using var generatorOptimizer = UpdateRule(Config.Optimizer).Bind(generatorParameters);
        var optimizers = new WganOptimizers(criticOptimizer, criticParameters, generatorOptimizer, generatorParameters);
        resumeFrom?.Restore(random, optimizers);
        generator.train();
        critic.train();

        var history = new List<WganProgress>();
        var checkpoints = new List<string>();
        long n = real.shape[0];
        int evaluationCount = (int)Math.Min(config.EvaluationCount, n);
        int done = config.StartIteration;
        int alreadyTaken = resumeFrom?.CriticStepsDone ?? 0;
        for (int iteration = config.StartIteration + 1; iteration <= config.GeneratorIterations; iteration++)
        {
            CriticStep last = default;
            int steps = config.CriticStepsAt(iteration);
            for (int k = iteration == config.StartIteration + 1 ? alreadyTaken : 0; k < steps; k++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl+C: keep what has been learned so far, with the k critic steps of this iteration already taken, then stop.
                    string? saved = null;
                    if (config.CheckpointDirectory is not null && done > 0)
                    {
                        saved = Path.Combine(config.CheckpointDirectory, WganCheckpoint.FileName(done));
                        SaveCheckpoint(saved, done, k, random, optimizers);
                        checkpoints.Add(saved);
                    }
                    throw new WganCancelledException(done, saved, cancellationToken);
                }
                last = TrainCritic(real, n, random, criticOptimizer, iteration);
            }
            double generatorLoss = TrainGenerator(random, generatorOptimizer, iteration);

            string? checkpoint = null;
            bool lastIteration = iteration == config.GeneratorIterations;
            if (config.CheckpointDirectory is not null && (lastIteration || (config.CheckpointInterval > 0
                && iteration % config.CheckpointInterval == 0)))
            {
                checkpoint = Path.Combine(config.CheckpointDirectory, WganCheckpoint.FileName(iteration));
                SaveCheckpoint(checkpoint, iteration, 0, random, optimizers);
                checkpoints.Add(checkpoint);
            }
            bool evaluate = config.EvaluationInterval > 0 && (lastIteration || iteration % config.EvaluationInterval == 0);
            if (lastIteration || iteration % config.ProgressInterval == 0 || checkpoint is not null || evaluate)
            {
                var state = new WganProgress(iteration, config.GeneratorIterations, last.Estimate, last.Loss, last.Penalty, generatorLoss,
                    checkpoint)
                {
                    ExactW1 = evaluate ? ExactWasserstein.GeneratorDistance(generator, real, evaluationCount, config.Seed) : null,
                };
                history.Add(state);
                progress?.Report(state);
            }
            done = iteration;
        }
        return new WganResult(config.GeneratorIterations, history, checkpoints);
    }

    void SaveCheckpoint(string path, int iteration, int criticStepsDone, torch.Generator random, WganOptimizers optimizers)
    {
        using var scope = torch.NewDisposeScope();
        using var state = WganTrainerState.Capture(iteration, criticStepsDone, Config.Optimizer, random, optimizers);
        WganCheckpoint.Save(path, generator, critic, iteration, state);
    }

    void CheckResumeState(WganTrainerState? state)
    {
        if (state is null) return;
        var config = Config;
        if (state.Iteration != config.StartIteration)
            throw new BasinException($"wgan: the trainer state is at iteration {state.Iteration} but the run starts at " +
                $"{config.StartIteration}");
        if (state.Optimizer != config.Optimizer)
            throw new BasinException($"wgan: the trainer state holds {state.Optimizer} moments but the run uses {config.Optimizer}");
        int steps = config.CriticStepsAt(config.StartIteration + 1);
        if (state.CriticStepsDone >= steps)
            throw new BasinException($"wgan: the trainer state has {state.CriticStepsDone} critic steps of iteration " +
                $"{config.StartIteration + 1} done, which has only {steps}");
    }

    readonly record struct CriticStep(double Estimate, double Loss, double Penalty);

    CriticStep TrainCritic(Tensor real, long n, torch.Generator random, IUpdater optimizer, int iteration)
    {
        var config = Config;
        using var scope = torch.NewDisposeScope();
        var realBatch = real.index(torch.randint(n, new long[] { config.BatchSize }, generator: random));
        Tensor fakeBatch;
        using (torch.no_grad()) fakeBatch = generator.forward(generator.SampleLatent(config.BatchSize, random));

        var realMean = critic.forward(realBatch).mean();
        var fakeMean = critic.forward(fakeBatch).mean();
        var loss = fakeMean - realMean;
        var penalty = torch.zeros(1).squeeze();
        if (config.Regularization != LipschitzRegularization.WeightClipping)
        {
            var points = CriticPenalty.SamplePoints(config.Sampling, realBatch, fakeBatch, config.PerturbationScale, random);
            penalty = CriticPenalty.Compute(config.Regularization, critic.forward, points);
            using var lambda = config.Lambda.ToScalar();
            loss = loss.add(penalty.mul(lambda), Scalars.One);
        }
        double lossValue = loss.item<float>();
        if (!double.IsFinite(lossValue))
            throw new DivergenceException($"wgan diverged at generator iteration {iteration}: critic loss is {lossValue}");

        critic.zero_grad();
        loss.backward();
        optimizer.Apply(config.EffectiveLearningRate);
        if (config.Regularization == LipschitzRegularization.WeightClipping)
            CriticPenalty.ClipWeights(critic, config.ClipValue);
        return new CriticStep(realMean.item<float>() - fakeMean.item<float>(), lossValue, penalty.item<float>());
    }

    double TrainGenerator(torch.Generator random, IUpdater optimizer, int iteration)
    {
        using var scope = torch.NewDisposeScope();
        var fake = generator.forward(generator.SampleLatent(Config.BatchSize, random));
        var loss = -critic.forward(fake).mean();
        double lossValue = loss.item<float>();
        if (!double.IsFinite(lossValue))
            throw new DivergenceException($"wgan diverged at generator iteration {iteration}: generator loss is {lossValue}");
        generator.zero_grad();
        loss.backward();
        optimizer.Apply(Config.EffectiveLearningRate);
        // The generator step also leaves gradients on the critic; its next step zeroes them before use.
        return lossValue;
    }

    /// <summary>Basin's update rule for a GAN optimizer: Adam with β = (0.5, 0.9) (the WGAN-GP paper's), or RMSProp.</summary>
    public static IUpdateRule UpdateRule(GanOptimizer optimizer) =>
        optimizer == GanOptimizer.Adam ? new Basin.Training.Adam(0.5, 0.9) : new RmsProp();

    void CheckRealData(Tensor real)
    {
        var shape = generator.SampleShape;
        if (real.dim() != shape.Length + 1 || !real.shape.Skip(1).SequenceEqual(shape) || real.shape[0] < 1)
            throw new BasinException($"real data must be [N,{string.Join(",", shape)}] with N ≥ 1 for {generator.Spec}, got " +
                $"[{string.Join(",", real.shape)}]");
        if (real.dtype != ScalarType.Float32)
            throw new BasinException($"real data must be float32, got {real.dtype}");
    }
}
