using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>One Linear or Conv2d layer's input and output from a replayed forward pass.</summary>
public sealed record TracedLayer(string Name, nn.Module<Tensor, Tensor> Module, Tensor Input, Tensor Output);

/// <summary>
/// A forward pass that keeps every Linear/Conv2d layer's input and output. Basin's models call their layers'
/// forward directly, which bypasses TorchSharp's module hooks, so the pass is a replay of the model's own steps
/// (for <see cref="Mlp"/> and <see cref="LeNet5"/>), op for op, giving the same logits as the model's forward.
/// The outputs stay in the autograd graph, so ∂ℓ/∂output for every example comes from one backward pass.
/// </summary>
public sealed record LayerTrace(Tensor Features, Tensor Logits, IReadOnlyList<TracedLayer> Layers)
{
    /// <summary>Whether <see cref="Run"/> can replay this model.</summary>
    public static bool Supports(Classifier model) => model is Mlp or LeNet5;

    public static LayerTrace Run(Classifier model, Tensor input)
    {
        var modules = model.named_modules().Where(nm => nm.name.Length > 0).ToDictionary(nm => nm.name, nm => nm.module);
        var layers = new List<TracedLayer>();
        Tensor Apply(string name, Tensor x)
        {
            var module = (nn.Module<Tensor, Tensor>)modules[name];
            var y = module.forward(x);
            layers.Add(new TracedLayer(name, module, x, y));
            return y;
        }
        Tensor features;
        switch (model)
        {
            case Mlp mlp:
                {
                    if (input.dim() < 2 || input[0].numel() != mlp.InputSize)
                        throw new BasinException($"{mlp.Spec} expects input [N,...] with {mlp.InputSize} values per example, got [{string.Join(",", input.shape)}]");
                    var h = input.flatten(1);
                    for (int i = 0; i < mlp.HiddenWidths.Count; i++)
                    {
                        var z = Apply($"fc{i + 1}", h);
                        h = mlp.Activation switch
                        {
                            Activation.Relu => nn.functional.relu(z),
                            Activation.Tanh => torch.tanh(z),
                            _ => torch.sigmoid(z),
                        };
                    }
                    features = h;
                    break;
                }
            case LeNet5 lenet:
                {
                    var s = input.shape;
                    if (s.Length != 4 || s[1] != lenet.InputChannels || s[2] != LeNet5.ImageSize || s[3] != LeNet5.ImageSize)
                        throw new BasinException($"lenet5 expects input [N,{lenet.InputChannels},{LeNet5.ImageSize},{LeNet5.ImageSize}], got [{string.Join(",", s)}]");
                    var p1 = MaxPool.TwoByTwo(nn.functional.relu(Apply("conv1", input)));
                    var p2 = MaxPool.TwoByTwo(nn.functional.relu(Apply("conv2", p1)));
                    var a1 = nn.functional.relu(Apply("fc1", p2.flatten(1)));
                    features = nn.functional.relu(Apply("fc2", a1));
                    break;
                }
            default:
                throw new BasinException($"per-example gradients by replay support mlp and lenet5, not {model.Spec}");
        }
        var logits = Apply(model.HeadName, features);
        return new LayerTrace(features, logits, layers);
    }
}
