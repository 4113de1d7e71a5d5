using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Gan;

/// <summary>
/// A GAN generator G: R^LatentDim → samples of shape <see cref="SampleShape"/>. The latent prior is the
/// standard normal N(0, I), as in the WGAN papers.
/// </summary>
public abstract class Generator : nn.Module<Tensor, Tensor>
{
    protected Generator(string name) : base(name) { }

    public abstract int LatentDim { get; }

    /// <summary>The shape of one sample, e.g. [2] for a toy set or [1, 28, 28] for Fashion-MNIST.</summary>
    public abstract long[] SampleShape { get; }

    /// <summary>A short description of the architecture, e.g. "mlp-generator:2→512,512,512→2".</summary>
    public abstract string Spec { get; }

    /// <summary><paramref name="count"/> latent codes z ~ N(0, I), shape [count, LatentDim].</summary>
    public Tensor SampleLatent(long count, torch.Generator? random = null) =>
        torch.randn(new[] { count, (long)LatentDim }, generator: random);

    protected void CheckLatent(Tensor z)
    {
        if (z.dim() != 2 || z.shape[1] != LatentDim)
            throw new BasinException($"{Spec} expects latent codes [N,{LatentDim}], got [{string.Join(",", z.shape)}]");
    }
}

/// <summary>A WGAN critic f: samples → R, one real score per sample (shape [N]); higher means "looks real".</summary>
public abstract class Critic : nn.Module<Tensor, Tensor>
{
    protected Critic(string name) : base(name) { }

    public abstract long[] SampleShape { get; }

    public abstract string Spec { get; }

    protected void CheckSamples(Tensor x)
    {
        if (x.dim() != SampleShape.Length + 1 || !x.shape.Skip(1).SequenceEqual(SampleShape))
            throw new BasinException($"{Spec} expects samples [N,{string.Join(",", SampleShape)}], got [{string.Join(",", x.shape)}]");
    }
}
