using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The input a layer receives when the model runs on x. Basin's models call their layers' forward directly,
/// which bypasses TorchSharp's module hooks, so the head's input comes from <see cref="Classifier.Features"/>, the
/// layers of models that describe their forward (<see cref="Classifier.Replay"/>: MLP, LeNet-5, custom models) are
/// reached by replaying it up to the layer, and other models fall back to a forward pre-hook (which works for
/// models that invoke their layers through call()).
/// </summary>
static class LayerInputs
{
    public static Tensor Capture(Classifier model, FlatLayer layer, Tensor x)
    {
        if (layer.IsHead) return model.Features(x);
        if (!model.CanReplay) return ByHook(model, layer, x);
        var modules = model.named_modules().Where(nm => nm.name.Length > 0).ToDictionary(nm => nm.name, nm => nm.module);
        Tensor? captured = null;
        using (var scope = torch.NewDisposeScope())
        {
            try
            {
                model.Replay(x, (name, input) =>
                {
                    if (name == layer.Name)
                    {
                        captured = input.alias().MoveToOuterDisposeScope();
                        throw new ReachedLayer();
                    }
                    return ((nn.Module<Tensor, Tensor>)modules[name]).forward(input);
                });
            }
            catch (ReachedLayer)
            {
            }
        }
        return captured ?? throw new BasinException($"{model.Spec}: Replay never applied layer '{layer.Name}'");
    }

    /// <summary>Ends a replay at the layer whose input is wanted: nothing after it needs computing.</summary>
    sealed class ReachedLayer : Exception;

    static Tensor ByHook(Classifier model, FlatLayer layer, Tensor x)
    {
        if (layer.Module is not nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>,
            Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>> hookable)
            throw new BasinException($"cannot capture the input of layer '{layer.Name}' in {model.Spec}");
        Tensor? captured = null;
        var remover = hookable.register_forward_pre_hook(
            (_, input) => { captured ??= input.alias().DetachFromDisposeScope(); return input; });
        try
        {
            using var output = model.call(x);
        }
        finally
        {
            remover.remove();
        }
        return captured ?? throw new BasinException(
            $"cannot capture the input of layer '{layer.Name}' in {model.Spec}: the model does not run it through call(); measure the " +
            "head or an MLP/LeNet-5 layer");
    }
}
