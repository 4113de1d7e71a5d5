using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>One Linear or Conv2d layer's input and output from a replayed forward pass.</summary>
public sealed record TracedLayer(string Name, nn.Module<Tensor, Tensor> Module, Tensor Input, Tensor Output);

/// <summary>
/// A forward pass that keeps every Linear/Conv2d layer's input and output. Basin's models call their layers'
/// forward directly, which bypasses TorchSharp's module hooks, so the pass is the model's own
/// <see cref="Classifier.Replay"/> (MLP, LeNet-5, and custom models that override it), giving the same logits as its
/// forward. The outputs stay in the autograd graph, so ∂ℓ/∂output for every example comes from one backward pass.
/// </summary>
public sealed record LayerTrace(Tensor Features, Tensor Logits, IReadOnlyList<TracedLayer> Layers)
{
    /// <summary>Whether <see cref="Run"/> can replay this model.</summary>
    public static bool Supports(Classifier model) => model.CanReplay;

    public static LayerTrace Run(Classifier model, Tensor input)
    {
        if (!model.CanReplay) throw new BasinException("per-example gradients by replay need a model that overrides " +
            $"Classifier.Replay, not {model.Spec}");
        var modules = model.named_modules().Where(nm => nm.name.Length > 0).ToDictionary(nm => nm.name, nm => nm.module);
        var layers = new List<TracedLayer>();
        Tensor Apply(string name, Tensor x)
        {
            if (!modules.TryGetValue(name, out var found) || found is not nn.Module<Tensor, Tensor> module)
                throw new BasinException($"{model.Spec}: Replay applied '{name}', which is not a layer of the model");
            var y = module.forward(x);
            layers.Add(new TracedLayer(name, module, x, y));
            return y;
        }
        var logits = model.Replay(input, Apply);
        var head = layers.LastOrDefault(l => l.Name == model.HeadName)
            ?? throw new BasinException($"{model.Spec}: Replay never applied the head '{model.HeadName}'");
        return new LayerTrace(head.Input, logits, layers);
    }
}
