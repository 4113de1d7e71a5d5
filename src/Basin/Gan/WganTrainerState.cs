using Basin.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// What a WGAN run holds besides its two networks and needs to continue bit-exactly: the state of the one random
/// generator that draws the minibatches, latent codes and penalty points; both optimizers' per-parameter state
/// (step count and moment tensors); and how many critic steps of the next generator iteration were already taken
/// (Ctrl+C stops the trainer between critic steps, not only between generator iterations).
/// Stored in the checkpoint file under "trainer.*" (see <see cref="WganCheckpoint"/>). The tensors are owned copies.
/// </summary>
public sealed class WganTrainerState : IDisposable
{
    const string Prefix = "trainer.";
    const string RandomName = Prefix + "random";
    static readonly string[] Sides = ["critic_optimizer", "generator_optimizer"];

    readonly Tensor random;
    readonly Dictionary<string, Tensor> optimizerTensors;

    WganTrainerState(int iteration, int criticStepsDone, GanOptimizer optimizer, Tensor random, Dictionary<string, Tensor> optimizerTensors)
    {
        Iteration = iteration;
        CriticStepsDone = criticStepsDone;
        Optimizer = optimizer;
        this.random = random;
        this.optimizerTensors = optimizerTensors;
    }

    /// <summary>Generator iterations completed.</summary>
    public int Iteration { get; }

    /// <summary>Critic steps of generator iteration <see cref="Iteration"/> + 1 already taken (0 at an iteration boundary).</summary>
    public int CriticStepsDone { get; }

    /// <summary>The optimizer the moments belong to; a run can only be continued with the same one.</summary>
    public GanOptimizer Optimizer { get; }

    /// <summary>Copies the current state of a running trainer.</summary>
    internal static WganTrainerState Capture(int iteration, int criticStepsDone, GanOptimizer kind, torch.Generator randomGenerator,
        optim.Optimizer criticOptimizer, optim.Optimizer generatorOptimizer)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (side, optimizer) in Sides.Zip(new[] { criticOptimizer, generatorOptimizer }))
        {
            var states = StatesOf(optimizer);
            for (int i = 0; i < states.Count; i++)
            {
                tensors[$"{Prefix}{side}.{i}.step"] = torch.tensor(new[] { StepOf(states[i]) });
                foreach (var (field, value) in Fields(states[i]))
                    if (value is not null) tensors[$"{Prefix}{side}.{i}.{field}"] = value.detach().clone();
            }
        }
        // get_state returns a fresh copy of the generator state.
        return new WganTrainerState(iteration, criticStepsDone, kind, randomGenerator.get_state(), tensors);
    }

    /// <summary>Puts this state into a freshly built trainer's random generator and optimizers. Everything is checked
    /// before anything is changed.</summary>
    /// <exception cref="DataFormatException">The state does not fit the optimizers or the random generator.</exception>
    internal void Restore(torch.Generator randomGenerator, optim.Optimizer criticOptimizer, optim.Optimizer generatorOptimizer)
    {
        var targets = new List<(OptimizerState State, string Name)>();
        var problems = new List<string>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (side, optimizer) in Sides.Zip(new[] { criticOptimizer, generatorOptimizer }))
        {
            var states = StatesOf(optimizer);
            for (int i = 0; i < states.Count; i++)
            {
                var stepName = $"{Prefix}{side}.{i}.step";
                expected.Add(stepName);
                if (!optimizerTensors.TryGetValue(stepName, out var step) || step.dtype != ScalarType.Int64 || step.numel() != 1)
                    problems.Add($"{stepName} is missing or not one int64");
                foreach (var (field, value) in Fields(states[i]))
                {
                    var name = $"{Prefix}{side}.{i}.{field}";
                    if (value is null) continue;
                    expected.Add(name);
                    if (!optimizerTensors.TryGetValue(name, out var saved)) problems.Add($"missing {name}");
                    else if (!saved.shape.SequenceEqual(value.shape) || saved.dtype != value.dtype)
                        problems.Add($"{name} is {saved.dtype} [{string.Join(",", saved.shape)}], optimizer has {value.dtype} [{string.Join(",", value.shape)}]");
                }
                targets.Add((states[i], $"{side}.{i}"));
            }
        }
        problems.AddRange(optimizerTensors.Keys.Where(k => !expected.Contains(k)).Select(k => $"unexpected {k}"));
        using (var current = randomGenerator.get_state())
            if (random.dtype != current.dtype || !random.shape.SequenceEqual(current.shape))
                problems.Add($"random state is {random.dtype} [{string.Join(",", random.shape)}], expected {current.dtype} [{string.Join(",", current.shape)}]");
        if (problems.Count > 0)
            throw new DataFormatException($"trainer state does not fit this run: {string.Join("; ", problems.Take(5))}{(problems.Count > 5 ? $"; and {problems.Count - 5} more" : "")}");

        using (torch.no_grad())
        {
            foreach (var (state, name) in targets)
            {
                SetStep(state, optimizerTensors[$"{Prefix}{name}.step"].item<long>());
                foreach (var (field, value) in Fields(state))
                    if (value is not null) value.copy_(optimizerTensors[$"{Prefix}{name}.{field}"]);
            }
        }
        randomGenerator.set_state(random);
    }

    /// <summary>The tensors to store (names start with "trainer.") and the metadata entries that go with them.</summary>
    internal IEnumerable<KeyValuePair<string, Tensor>> Tensors() =>
        optimizerTensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Prepend(new(RandomName, random));

    internal IEnumerable<KeyValuePair<string, string>> Metadata() =>
    [
        new("trainer_optimizer", Optimizer.ToString()),
        new("trainer_critic_steps_done", CriticStepsDone.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    internal static bool IsTrainerTensor(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The trainer state stored in a checkpoint, or null for a file written before checkpoints held it.</summary>
    internal static WganTrainerState? Read(SafeTensorsFile file, int iteration)
    {
        if (!file.Tensors.TryGetValue(RandomName, out var random)) return null;
        if (!file.Metadata.TryGetValue("trainer_optimizer", out var kind) || !Enum.TryParse<GanOptimizer>(kind, out var optimizer)
            || !file.Metadata.TryGetValue("trainer_critic_steps_done", out var doneText) || !int.TryParse(doneText, out var done) || done < 0)
            throw new DataFormatException("checkpoint has a trainer state but no valid trainer_optimizer / trainer_critic_steps_done metadata");
        if (random.dtype != ScalarType.Byte || random.dim() != 1)
            throw new DataFormatException($"checkpoint's {RandomName} must be a uint8 vector, got {random.dtype} [{string.Join(",", random.shape)}]");
        var tensors = file.Tensors.Where(kv => IsTrainerTensor(kv.Key) && kv.Key != RandomName)
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);
        return new WganTrainerState(iteration, done, optimizer, random.detach().clone(), tensors);
    }

    static List<OptimizerState> StatesOf(optim.Optimizer optimizer) => optimizer is OptimizerHelper helper
        ? helper.state_dict().State
        : throw new BasinException($"{optimizer.GetType().Name} keeps its state in native code; its state cannot be checkpointed");

    // The optimizers' per-parameter state, by PyTorch's names; the optional tensors are null unless their feature is on.
    static (string Field, Tensor? Value)[] Fields(OptimizerState state) => state switch
    {
        RMSProp.State r => [("square_avg", r.square_avg), ("momentum_buffer", r.momentum_buffer), ("grad_avg", r.grad_avg)],
        Adam.State a => [("exp_avg", a.exp_avg), ("exp_avg_sq", a.exp_avg_sq), ("max_exp_avg_sq", a.max_exp_avg_sq)],
        _ => throw new BasinException($"cannot checkpoint optimizer state of type {state.GetType().FullName}"),
    };

    static long StepOf(OptimizerState state) => state switch
    {
        RMSProp.State r => r.step,
        Adam.State a => a.step,
        _ => throw new BasinException($"cannot checkpoint optimizer state of type {state.GetType().FullName}"),
    };

    static void SetStep(OptimizerState state, long step)
    {
        switch (state)
        {
            case RMSProp.State r: r.step = step; break;
            case Adam.State a: a.step = step; break;
            default: throw new BasinException($"cannot restore optimizer state of type {state.GetType().FullName}");
        }
    }

    public void Dispose()
    {
        random.Dispose();
        foreach (var t in optimizerTensors.Values) t.Dispose();
    }
}
