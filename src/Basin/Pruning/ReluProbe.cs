using Basin.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>One ReLU layer's pre-activations z (shape [N, units...]) and how many elements one unit (channel) has.</summary>
public sealed record PreActivation(string Layer, Tensor Z, long ElementsPerChannel);

/// <summary>
/// The forward pass of a ReLU network with its pre-activations exposed, layer by layer, for the dead-neuron rate
/// (forward hooks cannot see them: Basin's models call their layers directly). Known: MLPs with ReLU and LeNet-5; it
/// computes exactly what the model's forward computes (a test holds it to that).
/// </summary>
public static class ReluProbe
{
    /// <summary>The ReLU layers' pre-activations and the logits, for inputs <paramref name="x"/> (tensors in the caller's dispose
    /// scope).</summary>
    public static (IReadOnlyList<PreActivation> Layers, Tensor Logits) Forward(Classifier model, Tensor x)
    {
        var layers = new List<PreActivation>();
        switch (model)
        {
            case Mlp { Activation: Activation.Relu } mlp:
            {
                var linears = Children<Linear>(model, Enumerable.Range(1, mlp.HiddenWidths.Count + 1).Select(i => $"fc{i}"));
                var h = x.flatten(1);
                for (int i = 0; i < linears.Length - 1; i++)
                {
                    var z = linears[i].forward(h);
                    layers.Add(new PreActivation($"fc{i + 1}", z, 1));
                    h = nn.functional.relu(z);
                }
                return (layers, linears[^1].forward(h));
            }
            case LeNet5:
            {
                var convs = Children<Conv2d>(model, ["conv1", "conv2"]);
                var fcs = Children<Linear>(model, ["fc1", "fc2", "fc3"]);
                var z1 = convs[0].forward(x);
                layers.Add(new PreActivation("conv1", z1, z1.shape[2] * z1.shape[3]));
                var z2 = convs[1].forward(MaxPool.TwoByTwo(nn.functional.relu(z1)));
                layers.Add(new PreActivation("conv2", z2, z2.shape[2] * z2.shape[3]));
                var z3 = fcs[0].forward(MaxPool.TwoByTwo(nn.functional.relu(z2)).flatten(1));
                layers.Add(new PreActivation("fc1", z3, 1));
                var z4 = fcs[1].forward(nn.functional.relu(z3));
                layers.Add(new PreActivation("fc2", z4, 1));
                return (layers, fcs[2].forward(nn.functional.relu(z4)));
            }
            default:
                throw new BasinException("the dead-neuron rate needs a ReLU network Basin can look into (mlp with relu, lenet5); " +
                    $"'{model.Spec}' is not one");
        }
    }

    /// <summary>True when <see cref="Forward"/> knows the model.</summary>
    public static bool Supports(Classifier model) => model is Mlp { Activation: Activation.Relu } or LeNet5;

    static T[] Children<T>(Classifier model, IEnumerable<string> names) where T : nn.Module
    {
        var children = model.named_children().ToDictionary(c => c.name, c => c.module);
        return names.Select(n => children.TryGetValue(n, out var m) && m is T t ? t
            : throw new BasinException($"model '{model.Spec}' has no layer '{n}' of the expected kind")).ToArray();
    }
}
