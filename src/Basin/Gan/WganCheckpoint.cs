using Basin.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// A WGAN checkpoint: one safetensors file holding the generator's tensors under "generator.*" and the critic's
/// under "critic.*", with metadata (iteration, architectures). Optimizer state is not saved: a run resumed from a
/// checkpoint restarts RMSProp/Adam from zero moments, which the adaptive optimizers recover from within a few
/// hundred steps. Files are written atomically (temporary file, fsync, rename).
/// </summary>
public static class WganCheckpoint
{
    public static string FileName(int iteration) => $"wgan-{iteration:D7}.safetensors";

    public static void Save(string path, Generator generator, Critic critic, int iteration)
    {
        using var pair = new GanPair(generator, critic);
        Weights.Save(pair, path, new Dictionary<string, string>
        {
            ["iteration"] = iteration.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["generator"] = generator.Spec,
            ["critic"] = critic.Spec,
        });
    }

    /// <summary>Loads both networks from <paramref name="path"/>; returns the iteration it was written at.</summary>
    /// <exception cref="DataFormatException">The file does not fit the networks.</exception>
    public static int Load(string path, Generator generator, Critic critic)
    {
        using (var pair = new GanPair(generator, critic)) Weights.Load(pair, path);
        using var file = SafeTensors.Load(path);
        return file.Metadata.TryGetValue("iteration", out var s) && int.TryParse(s, out var it) ? it : 0;
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
