using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The input a layer receives when the model runs on x. Basin's models call their layers' forward directly,
/// which bypasses TorchSharp's module hooks, so the head's input comes from <see cref="Classifier.Features"/>,
/// MLP and LeNet-5 layers are reached by replaying the model's own steps up to the layer, and other models
/// fall back to a forward pre-hook (which works for models that invoke their layers through call()).
/// </summary>
static class LayerInputs
{
    public static Tensor Capture(Classifier model, FlatLayer layer, Tensor x)
    {
        if (layer.IsHead) return model.Features(x);
        var modules = model.named_modules().Where(nm => nm.name.Length > 0).ToDictionary(nm => nm.name, nm => nm.module);
        switch (model)
        {
            case Mlp mlp:
                {
                    int index = int.Parse(layer.Name[2..]) - 1;
                    var h = x.flatten(1);
                    for (int i = 0; i < index; i++)
                    {
                        using var z = ((Linear)modules[$"fc{i + 1}"]).forward(h);
                        h.Dispose();
                        h = mlp.Activation switch
                        {
                            Activation.Relu => nn.functional.relu(z),
                            Activation.Tanh => torch.tanh(z),
                            _ => torch.sigmoid(z),
                        };
                    }
                    return h;
                }
            case LeNet5:
                {
                    Tensor Step(string name, Tensor input) => ((nn.Module<Tensor, Tensor>)modules[name]).forward(input);
                    if (layer.Name == "conv1") return x.alias();
                    using var c1 = Step("conv1", x);
                    using var r1 = nn.functional.relu(c1);
                    var p1 = MaxPool.TwoByTwo(r1);
                    if (layer.Name == "conv2") return p1;
                    using (p1)
                    {
                        using var c2 = Step("conv2", p1);
                        using var r2 = nn.functional.relu(c2);
                        using var p2 = MaxPool.TwoByTwo(r2);
                        var flat = p2.flatten(1);
                        if (layer.Name == "fc1") return flat;
                        using (flat)
                        {
                            using var h1 = Step("fc1", flat);
                            return nn.functional.relu(h1);
                        }
                    }
                }
            default:
                return ByHook(model, layer, x);
        }
    }

    static Tensor ByHook(Classifier model, FlatLayer layer, Tensor x)
    {
        if (layer.Module is not nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>> hookable)
            throw new BasinException($"cannot capture the input of layer '{layer.Name}' in {model.Spec}");
        Tensor? captured = null;
        var remover = hookable.register_forward_pre_hook((_, input) => { captured ??= input.alias().DetachFromDisposeScope(); return input; });
        try
        {
            using var output = model.call(x);
        }
        finally
        {
            remover.remove();
        }
        return captured ?? throw new BasinException(
            $"cannot capture the input of layer '{layer.Name}' in {model.Spec}: the model does not run it through call(); measure the head or an MLP/LeNet-5 layer");
    }
}
