using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// The toy-data generator of the WGAN-GP / WGAN-LP experiments: fully connected, ReLU after each hidden
/// layer, linear output (no squashing, the toy sets are unbounded). Default: latent dimension 2 (a 2-D
/// prior for 2-D data keeps latent paths easy to draw; the WGAN-GP reference code uses 2 as well)
/// and 3 hidden layers of 512. Layers are named fc1…fcK like <see cref="Mlp"/>.
/// </summary>
public sealed class MlpGenerator : Generator
{
    readonly Linear[] layers;

    public MlpGenerator(int latentDim = 2, int outputDim = 2, IReadOnlyList<int>? hiddenWidths = null, long seed = 0)
        : base(nameof(MlpGenerator))
    {
        if (latentDim < 1 || outputDim < 1) throw new BasinException("mlp generator needs positive latent and output dimensions, got " +
            $"{latentDim} and {outputDim}");
        LatentDim = latentDim;
        OutputDim = outputDim;
        HiddenWidths = MlpLayers.CheckWidths(hiddenWidths, "generator");
        layers = MlpLayers.Build(this, latentDim, HiddenWidths, outputDim);
        DefaultInit.Reset(this, seed);
    }

    public override int LatentDim { get; }
    public int OutputDim { get; }
    public IReadOnlyList<int> HiddenWidths { get; }
    public override long[] SampleShape => [OutputDim];
    public override string Spec => $"mlp-generator:{LatentDim}→{string.Join(",", HiddenWidths)}→{OutputDim}";

    public override Tensor forward(Tensor z)
    {
        CheckLatent(z);
        return MlpLayers.Forward(layers, z);
    }
}

/// <summary>
/// The toy-data critic: fully connected, ReLU after each hidden layer, one linear output unit; no
/// normalization layers (they would break the per-sample gradient norm that GP and LP constrain).
/// Default: 3 hidden layers of 512.
/// </summary>
public sealed class MlpCritic : Critic
{
    readonly Linear[] layers;

    public MlpCritic(int inputDim = 2, IReadOnlyList<int>? hiddenWidths = null, long seed = 0)
        : base(nameof(MlpCritic))
    {
        if (inputDim < 1) throw new BasinException($"mlp critic needs a positive input dimension, got {inputDim}");
        InputDim = inputDim;
        HiddenWidths = MlpLayers.CheckWidths(hiddenWidths, "critic");
        layers = MlpLayers.Build(this, inputDim, HiddenWidths, 1);
        DefaultInit.Reset(this, seed);
    }

    public int InputDim { get; }
    public IReadOnlyList<int> HiddenWidths { get; }
    public override long[] SampleShape => [InputDim];
    public override string Spec => $"mlp-critic:{InputDim}→{string.Join(",", HiddenWidths)}→1";

    public override Tensor forward(Tensor x)
    {
        CheckSamples(x);
        using var scores = MlpLayers.Forward(layers, x);
        return scores.squeeze(1);
    }
}

static class MlpLayers
{
    public static readonly int[] PaperWidths = [512, 512, 512];

    public static int[] CheckWidths(IReadOnlyList<int>? widths, string role)
    {
        var w = (widths ?? PaperWidths).ToArray();
        if (w.Length == 0 || w.Any(x => x < 1))
            throw new BasinException($"mlp {role} needs at least one hidden layer and positive widths, got [{string.Join(",", w)}]");
        return w;
    }

    public static Linear[] Build(nn.Module owner, long input, IReadOnlyList<int> hidden, long output)
    {
        var layers = new Linear[hidden.Count + 1];
        long fanIn = input;
        for (int i = 0; i < layers.Length; i++)
        {
            long fanOut = i < hidden.Count ? hidden[i] : output;
            layers[i] = nn.Linear(fanIn, fanOut);
            owner.register_module($"fc{i + 1}", layers[i]);
            fanIn = fanOut;
        }
        return layers;
    }

    public static Tensor Forward(Linear[] layers, Tensor x)
    {
        var h = x.alias();
        for (int i = 0; i < layers.Length; i++)
        {
            var next = layers[i].forward(h);
            h.Dispose();
            if (i < layers.Length - 1)
            {
                h = nn.functional.relu(next);
                next.Dispose();
            }
            else h = next;
        }
        return h;
    }
}
