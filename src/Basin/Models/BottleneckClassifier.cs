using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Models;

/// <summary>
/// Any Basin classifier with a narrow linear "bottleneck" inserted before its head, as in the FAM paper
/// ("FAM: Relative Flatness Aware Minimization", 2023), whose networks end in Linear(features → 64) → Linear(64 → classes)
/// so that κ_Tr is measured and regularized on a small head:
/// <code>
/// φ_trunk(x) = the trunk's penultimate representation (e.g. LeNet-5's 84 fc2 features)
/// φ(x)       = act(bottleneck(φ_trunk(x)))      bottleneck: Linear(features → k); act: none (default) or relu|tanh|sigmoid
/// f(x)       = head(φ(x))                        head: Linear(k → classes), named as the trunk names its head
/// </code>
/// The FAM reference's bottleneck is purely linear (no nonlinearity before the classifier), hence the default.
/// Parameter names are the trunk's own (the trunk's head is dropped), then "bottleneck", then the head:
/// lenet5+bottleneck:64 has conv1, conv2, fc1, fc2, bottleneck, fc3 in that order, which is also the order
/// <see cref="DefaultInit"/> draws them in, so the trunk's layers get the same initial weights as the plain trunk.
/// It is its own type, not an <see cref="Mlp"/> or <see cref="LeNet5"/>, so code that replays those architectures
/// layer by layer does not mistake it for one.
/// </summary>
public sealed class BottleneckClassifier : Classifier
{
    // The trunk is not registered: its layers are registered here directly, under their own names, without its head.
    readonly Classifier trunk;
    readonly Linear bottleneck;
    readonly Linear head;

    /// <summary>Wraps <paramref name="trunk"/>, whose head is replaced; the trunk must not be used on its own afterwards.</summary>
    /// <param name="width">k, the number of bottleneck features.</param>
    /// <param name="activation">The nonlinearity after the bottleneck; null for none (the FAM reference's choice).</param>
    public BottleneckClassifier(Classifier trunk, int width, Activation? activation = null) : base(nameof(BottleneckClassifier))
    {
        ArgumentNullException.ThrowIfNull(trunk);
        if (trunk is BottleneckClassifier) throw new BasinException($"model {trunk.Spec} already has a bottleneck");
        if (width < 1) throw new BasinException($"the bottleneck width must be positive, got {width}");
        this.trunk = trunk;
        Width = width;
        Activation = activation;
        ClassCount = trunk.ClassCount;
        HeadName = trunk.HeadName;
        var trunkHead = trunk.Head;
        foreach (var (name, child) in trunk.named_children())
            if (!ReferenceEquals(child, trunkHead)) register_module(name, child);
        bottleneck = nn.Linear(trunkHead.in_features, width);
        head = nn.Linear(width, trunk.ClassCount);
        register_module(nameof(bottleneck), bottleneck);
        register_module(HeadName, head);
        trunkHead.Dispose(); // never run: the bottleneck and the new head take its place
    }

    /// <summary>The layer name FAM (<c>--fam-layer</c>) and relative flatness accept for the bottleneck.</summary>
    public const string BottleneckName = "bottleneck";

    /// <summary>The spec of the model without the bottleneck, e.g. "lenet5".</summary>
    public string TrunkSpec => trunk.Spec;

    /// <summary>k, the number of bottleneck features (= the width of <see cref="Features"/>).</summary>
    public int Width { get; }

    /// <summary>The nonlinearity after the bottleneck; null for none.</summary>
    public Activation? Activation { get; }

    /// <summary>The trunk's features feeding the bottleneck (e.g. 84 for LeNet-5).</summary>
    public long TrunkFeatureCount => bottleneck.in_features;

    public Linear Bottleneck => bottleneck;

    public override string Spec => ModelSpec.WithBottleneck(trunk.Spec, Width, Activation);
    public override int ClassCount { get; }
    public override string HeadName { get; }
    public override Linear Head => head;

    public override Tensor Features(Tensor input)
    {
        using var phi = trunk.Features(input);
        // call() rather than forward(): hooks fire, so relative flatness can capture the bottleneck's input by hook.
        var z = bottleneck.call(phi);
        if (Activation is not { } a) return z;
        using (z)
            return a switch
            {
                Models.Activation.Relu => nn.functional.relu(z),
                Models.Activation.Tanh => torch.tanh(z),
                Models.Activation.Sigmoid => torch.sigmoid(z),
                _ => throw new InvalidOperationException($"unhandled activation {a}"),
            };
    }
}
