using System.Globalization;
using Basin.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// A WGAN checkpoint: one safetensors file holding the generator's tensors under "generator.*", the critic's under
/// "critic.*" (PyTorch names), and, for checkpoints the trainer writes, the <see cref="WganTrainerState"/> under
/// "trainer.*" (random generator state, RMSProp/Adam step counts and moments, critic steps already taken of the next
/// iteration), with metadata (iteration, architectures, trainer optimizer). Network, optimizer and random state go into
/// the same file, written atomically (temporary file, fsync, rename), so they always belong together and a run resumed
/// from it continues bit-identically. Files without "trainer.*" (the final weights, and checkpoints written before the
/// state was stored) still load; resuming from one restarts the optimizers' moments and the random stream.
/// </summary>
public static class WganCheckpoint
{
    public static string FileName(int iteration) => $"wgan-{iteration:D7}.safetensors";

    /// <summary>Writes both networks and, when given, the trainer state.</summary>
    public static void Save(string path, Generator generator, Critic critic, int iteration, WganTrainerState? trainerState = null)
    {
        if (trainerState is not null && trainerState.Iteration != iteration)
            throw new ArgumentException($"trainer state is at iteration {trainerState.Iteration}, checkpoint at {iteration}",
                nameof(trainerState));
        using var pair = new GanPair(generator, critic);
        var metadata = new Dictionary<string, string>
        {
            ["iteration"] = iteration.ToString(CultureInfo.InvariantCulture),
            ["generator"] = generator.Spec,
            ["critic"] = critic.Spec,
        };
        IEnumerable<KeyValuePair<string, Tensor>> tensors = pair.state_dict();
        if (trainerState is not null)
        {
            foreach (var (k, v) in trainerState.Metadata()) metadata[k] = v;
            tensors = tensors.Concat(trainerState.Tensors());
        }
        SafeTensors.Save(path, tensors, metadata, checksum: true);   // as training checkpoints: Restore verifies it
    }

    /// <summary>Loads both networks from <paramref name="path"/>; returns the iteration it was written at.</summary>
    /// <exception cref="DataFormatException">The file does not fit the networks.</exception>
    public static int Load(string path, Generator generator, Critic critic)
    {
        using var contents = Restore(path, generator, critic);
        return contents.Iteration;
    }

    /// <summary>
    /// Loads both networks from <paramref name="path"/> and returns the iteration with the trainer state to pass to
    /// <see cref="WganTrainer.Train"/> (null in <see cref="WganCheckpointContents.TrainerState"/> for a file that has none).
    /// </summary>
    /// <exception cref="DataFormatException">The file does not fit the networks or its trainer state is malformed.</exception>
    public static WganCheckpointContents Restore(string path, Generator generator, Critic critic)
    {
        int iteration;
        WganTrainerState? state;
        using var pair = new GanPair(generator, critic);
        using var file = SafeTensors.Load(path);
        iteration = file.Metadata.TryGetValue("iteration", out var s) && int.TryParse(s, NumberStyles.Integer,
            CultureInfo.InvariantCulture, out var it) ? it : 0;
        // The networks' tensors: everything but the trainer's state, checked and copied as every checkpoint is (Weights.CopyInto).
        var networks = file.Tensors.Where(kv => !WganTrainerState.IsTrainerTensor(kv.Key)).ToDictionary();
        state = WganTrainerState.Read(file, iteration);
        try
        {
            Weights.CopyInto(pair, networks, Path.GetFileName(path), strict: true, modelName: $"{generator.Spec} / {critic.Spec}");
        }
        catch
        {
            state?.Dispose();
            throw;
        }
        return new WganCheckpointContents(iteration, state);
    }

    sealed class GanPair : nn.Module
    {
        public GanPair(Generator generator, Critic critic) : base(nameof(GanPair))
        {
            register_module("generator", generator);
            register_module("critic", critic);
        }

        // The networks belong to the caller; the pair only names them.
        protected override void Dispose(bool disposing) { }
    }
}

/// <summary>What <see cref="WganCheckpoint.Restore"/> read besides the networks: the iteration and, when the file has
/// one, the trainer state (owned by this object).</summary>
public sealed record WganCheckpointContents(int Iteration, WganTrainerState? TrainerState) : IDisposable
{
    public void Dispose() => TrainerState?.Dispose();
}
