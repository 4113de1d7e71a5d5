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

    /// <summary>
    /// Whether the model describes its forward pass through <see cref="Replay"/>. Per-example gradient methods and
    /// measures of an inner layer's inputs need it (TorchSharp's module hooks do not fire when a model calls
    /// <c>layer.forward</c> directly, so Basin cannot watch an arbitrary forward).
    /// </summary>
    public virtual bool CanReplay => false;

    /// <summary>
    /// The extension point for custom models: the same computation as <see cref="forward"/>, with every weight layer
    /// (Linear or Conv2d, the head last) applied as <c>step(name, input)</c> instead of <c>layer.forward(input)</c>;
    /// returns the logits. Override it together with <see cref="CanReplay"/>; <c>name</c> is the layer's module name
    /// (as in <c>named_modules()</c>). The result must equal <see cref="forward"/>'s.
    /// </summary>
    public virtual Tensor Replay(Tensor input, LayerStep step) =>
        throw new BasinException($"{Spec} does not describe its forward pass (override Classifier.Replay and CanReplay)");

    /// <summary>
    /// A new model of the same architecture (untrained), for the measures that work on a copy (reparametrization,
    /// path-norm, folded features); null when the model cannot make one. Override it in a custom model.
    /// </summary>
    public virtual Classifier? NewOfSameArchitecture() => null;

    /// <summary>
    /// True when the network is positively homogeneous in each unit (ReLU activations, max pooling, no normalization), so
    /// path-norm is defined for it. Override it in a custom model that is.
    /// </summary>
    public virtual bool IsReluNetwork => false;
}

/// <summary>Applies the weight layer named <paramref name="name"/> to <paramref name="input"/> (see
/// <see cref="Classifier.Replay"/>).</summary>
public delegate Tensor LayerStep(string name, Tensor input);
