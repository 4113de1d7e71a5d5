using Basin.Native;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// A small DCGAN-like generator for 28×28 single-channel images in [0, 1]:
/// fc: z → 2w·7·7, ReLU, deconv1: 2w→w (4×4, stride 2) to 14×14, ReLU, deconv2: w→1 to 28×28, sigmoid.
/// No BatchNorm: it makes a sample depend on the rest of its batch, which latent paths must not.
/// Default latent dimension 64, width w = 64.
/// </summary>
public sealed class ConvGenerator : Generator
{
    readonly Linear fc;
    readonly ConvTranspose2d deconv1, deconv2;

    public ConvGenerator(int latentDim = 64, int width = 64, long seed = 0) : base(nameof(ConvGenerator))
    {
        if (latentDim < 1 || width < 1) throw new BasinException("conv generator needs positive latent dimension and width, got " +
            $"{latentDim} and {width}");
        LatentDim = latentDim;
        Width = width;
        fc = nn.Linear(latentDim, 2L * width * 7 * 7);
        deconv1 = nn.ConvTranspose2d(2L * width, width, 4, stride: 2, padding: 1);
        deconv2 = nn.ConvTranspose2d(width, 1, 4, stride: 2, padding: 1);
        RegisterComponents();
        DefaultInit.Reset(this, seed);
        TransposedConvInit.Reset(this, seed);
    }

    public override int LatentDim { get; }
    public int Width { get; }
    public override long[] SampleShape => [1, 28, 28];
    public override string Spec => $"conv-generator:{LatentDim}:w{Width}";

    public override Tensor forward(Tensor z)
    {
        CheckLatent(z);
        using var scope = torch.NewDisposeScope();
        var h = nn.functional.relu(fc.forward(z)).view(-1, 2L * Width, 7, 7);
        h = nn.functional.relu(deconv1.forward(h));
        return torch.sigmoid(deconv2.forward(h)).MoveToOuterDisposeScope();
    }
}

/// <summary>How the conv critic normalizes its hidden activations.</summary>
public enum CriticNormalization
{
    /// <summary>No normalization (the WGAN-GP paper's advice for penalized critics).</summary>
    None,
    /// <summary>LayerNorm over each sample's [C,H,W] activations: keeps samples independent, so the per-sample
    /// gradient norm that GP and LP constrain stays meaningful (BatchNorm would couple the samples of a batch).</summary>
    LayerNorm,
}

/// <summary>
/// A small DCGAN-like critic for 28×28 single-channel images: conv1 1→w (4×4, stride 2) to 14×14,
/// LeakyReLU(0.2), conv2 w→2w to 7×7, optional LayerNorm, LeakyReLU(0.2), fc 2w·7·7 → 1.
/// Never BatchNorm (see <see cref="CriticNormalization"/>). Default width w = 64, no normalization.
/// </summary>
public sealed class ConvCritic : Critic
{
    readonly Conv2d conv1, conv2;
    readonly LayerNorm? norm;
    readonly Linear fc;

    public ConvCritic(int width = 64, CriticNormalization normalization = CriticNormalization.None,
        long seed = 0) : base(nameof(ConvCritic))
    {
        if (width < 1) throw new BasinException($"conv critic needs a positive width, got {width}");
        Width = width;
        Normalization = normalization;
        conv1 = nn.Conv2d(1, width, 4, stride: 2, padding: 1);
        conv2 = nn.Conv2d(width, 2L * width, 4, stride: 2, padding: 1);
        norm = normalization == CriticNormalization.LayerNorm ? nn.LayerNorm(new[] { 2L * width, 7, 7 }) : null;
        fc = nn.Linear(2L * width * 7 * 7, 1);
        RegisterComponents();
        DefaultInit.Reset(this, seed);
    }

    public int Width { get; }
    public CriticNormalization Normalization { get; }
    public override long[] SampleShape => [1, 28, 28];
    public override string Spec => $"conv-critic:w{Width}" + (norm is null ? "" : ":layernorm");

    public override Tensor forward(Tensor x)
    {
        CheckSamples(x);
        using var scope = torch.NewDisposeScope();
        using var slope = 0.2.ToScalar();
        var h = conv1.forward(x).leaky_relu(slope);
        h = conv2.forward(h);
        if (norm is not null) h = norm.forward(h);
        h = h.leaky_relu(slope);
        return fc.forward(h.flatten(1)).squeeze(1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Basin's DefaultInit redraws Linear and Conv2d layers only; this gives ConvTranspose2d layers PyTorch's
/// default distribution (U(±1/√fan_in) with fan_in = out_channels·k·k, PyTorch's convention for the
/// transposed weight layout [in, out, k, k]) from a private generator, so a seed fixes every weight.
/// </summary>
static class TransposedConvInit
{
    public static void Reset(nn.Module model, long seed)
    {
        using var generator = new torch.Generator(unchecked((ulong)seed) ^ 0x9E3779B97F4A7C15UL);
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not ConvTranspose2d deconv) continue;
            var w = deconv.weight;
            long fanIn = w.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            double bound = 1 / Math.Sqrt(fanIn);
            w.uniform_(-bound, bound, generator);
            deconv.bias?.uniform_(-bound, bound, generator);
        }
    }
}
