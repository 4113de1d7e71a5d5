using Basin.IO;
using TorchSharp;
using Basin.Training;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// What a WGAN run holds besides its two networks and needs to continue bit-exactly: the state of the one random
/// generator that draws the minibatches, latent codes and penalty points; both update rules' per-parameter state
/// (step count and moment tensors, under PyTorch's names and parameter indices); and how many critic steps of the next generator iteration
/// were already taken (Ctrl+C stops the trainer between critic steps, not only between generator iterations).
/// Stored in the checkpoint file under "trainer.*" (see <see cref="WganCheckpoint"/>). The tensors are owned copies.
/// </summary>
public sealed class WganTrainerState : IDisposable
{
    const string Prefix = "trainer.";
    const string RandomName = Prefix + "random";

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
        WganOptimizers optimizers)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (side, updater, parameters) in optimizers.Sides())
        {
            var state = updater.State().ToDictionary(kv => kv.Key, kv => kv.Value);
            long step = state[StepKey].ToInt64();
            for (int i = 0; i < parameters.Count; i++)
            {
                tensors[$"{Prefix}{side}.{i}.step"] = torch.tensor(new[] { step }).DetachFromDisposeScope();
                foreach (var field in Fields(kind))
                    tensors[$"{Prefix}{side}.{i}.{field}"] =
                        state[$"{field}.{parameters[i].Name}"].detach().clone().DetachFromDisposeScope();
            }
        }
        // get_state returns a fresh copy of the generator state.
        return new WganTrainerState(iteration, criticStepsDone, kind, randomGenerator.get_state(), tensors);
    }

    /// <summary>Puts this state into a freshly built trainer's random generator and optimizers. Everything is checked
    /// before anything is changed.</summary>
    /// <exception cref="DataFormatException">The state does not fit the optimizers or the random generator.</exception>
    internal void Restore(torch.Generator randomGenerator, WganOptimizers optimizers)
    {
        var problems = new List<string>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var states = new List<(IUpdater Updater, Dictionary<string, Tensor> State)>();
        foreach (var (side, updater, parameters) in optimizers.Sides())
        {
            var state = new Dictionary<string, Tensor>();
            var current = updater.State().ToDictionary(kv => kv.Key, kv => kv.Value);
            for (int i = 0; i < parameters.Count; i++)
            {
                var stepName = $"{Prefix}{side}.{i}.step";
                expected.Add(stepName);
                if (!optimizerTensors.TryGetValue(stepName, out var step) || step.dtype != ScalarType.Int64 || step.numel() != 1)
                    problems.Add($"{stepName} is missing or not one int64");
                else if (i == 0) state[StepKey] = step.reshape(Array.Empty<long>());
                else if (state.TryGetValue(StepKey, out var first) && first.ToInt64() != step.ToInt64())
                    problems.Add($"{stepName} differs from the first parameter's step");
                foreach (var field in Fields(Optimizer))
                {
                    var name = $"{Prefix}{side}.{i}.{field}";
                    var key = $"{field}.{parameters[i].Name}";
                    var value = current[key];
                    expected.Add(name);
                    if (!optimizerTensors.TryGetValue(name, out var saved)) problems.Add($"missing {name}");
                    else if (!saved.shape.SequenceEqual(value.shape) || saved.dtype != value.dtype)
                        problems.Add($"{name} is {saved.dtype} [{string.Join(",", saved.shape)}], optimizer has {value.dtype} " +
                            $"[{string.Join(",", value.shape)}]");
                    else state[key] = saved;
                }
            }
            if (parameters.Count == 0) state[StepKey] = torch.tensor(0L);
            states.Add((updater, state));
        }
        problems.AddRange(optimizerTensors.Keys.Where(k => !expected.Contains(k)).Select(k => $"unexpected {k}"));
        using (var current = randomGenerator.get_state())
            if (random.dtype != current.dtype || !random.shape.SequenceEqual(current.shape))
                problems.Add($"random state is {random.dtype} [{string.Join(",", random.shape)}], expected {current.dtype} " +
                    $"[{string.Join(",", current.shape)}]");
        if (problems.Count > 0)
            throw new DataFormatException("trainer state does not fit this run: " +
                $"{string.Join("; ", problems.Take(5))}{(problems.Count > 5 ? $"; and {problems.Count - 5} more" : "")}");

        foreach (var (updater, state) in states) updater.LoadState(state);
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
            || !file.Metadata.TryGetValue("trainer_critic_steps_done", out var doneText) || !int.TryParse(doneText, out var done)
            || done < 0)
            throw new DataFormatException("checkpoint has a trainer state but no valid trainer_optimizer / " +
                "trainer_critic_steps_done metadata");
        if (random.dtype != ScalarType.Byte || random.dim() != 1)
            throw new DataFormatException($"checkpoint's {RandomName} must be a uint8 vector, got {random.dtype} " +
                $"[{string.Join(",", random.shape)}]");
        var tensors = file.Tensors.Where(kv => IsTrainerTensor(kv.Key) && kv.Key != RandomName)
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);
        return new WganTrainerState(iteration, done, optimizer, random.detach().clone(), tensors);
    }

    const string StepKey = "step";

    // The moments stored per parameter, by PyTorch's names, which Basin's update rules also use (checkpoints written
    // when the trainer ran on torch.optim load as they are).
    static string[] Fields(GanOptimizer kind) => kind == GanOptimizer.Adam ? ["exp_avg", "exp_avg_sq"] : ["square_avg"];

    public void Dispose()
    {
        random.Dispose();
        foreach (var t in optimizerTensors.Values) t.Dispose();
    }
}

/// <summary>The critic's and the generator's update rules, bound to their parameters (state_dict order).</summary>
internal sealed record WganOptimizers(IUpdater Critic, IReadOnlyList<NamedParameter> CriticParameters,
    IUpdater Generator, IReadOnlyList<NamedParameter> GeneratorParameters)
{
    /// <summary>The two sides under their names in checkpoints.</summary>
    public IEnumerable<(string Side, IUpdater Updater, IReadOnlyList<NamedParameter> Parameters)> Sides() =>
        [("critic_optimizer", Critic, CriticParameters), ("generator_optimizer", Generator, GeneratorParameters)];
}
