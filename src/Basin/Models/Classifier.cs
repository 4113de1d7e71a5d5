using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// A classification network f(x) = W φ(x) + b whose last layer is a linear "head".
/// Every Basin model exposes its penultimate representation φ (<see cref="Features"/>)
/// and the name of its head (e.g. "fc3"), because flatness measures and FAM act on it.
/// Parameter names follow PyTorch conventions (e.g. "conv1.weight", "fc3.bias").
/// </summary>
public abstract class Classifier : nn.Module<Tensor, Tensor>
{
    protected Classifier(string name) : base(name) { }

    /// <summary>The spec this model was built from (see <see cref="ModelSpec"/>); enough to rebuild it.</summary>
    public abstract string Spec { get; }

    /// <summary>Number of classes (outputs of the head).</summary>
    public abstract int ClassCount { get; }

    /// <summary>Parameter-name prefix of the last linear layer, e.g. "fc3".</summary>
    public abstract string HeadName { get; }

    /// <summary>The last linear layer.</summary>
    public abstract Linear Head { get; }

    /// <summary>The penultimate representation φ(x) that feeds the head, shape [N, m].</summary>
    public abstract Tensor Features(Tensor input);

    public override Tensor forward(Tensor input) => Head.forward(Features(input));
}
