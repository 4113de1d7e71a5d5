using Basin.Curvature;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Flatness;

/// <summary>
/// A layer seen as the matrix W ∈ R^{d×m} that relative flatness measures: a Linear layer's weight, or a
/// Conv2d weight reshaped to out × (in·kh·kw), whose inputs φ are then the unfolded patches.
/// </summary>
sealed class FlatLayer
{
    FlatLayer(string name, nn.Module<Tensor, Tensor> module, Parameter weight, Parameter? bias, bool isHead)
    {
        Name = name;
        Module = module;
        Weight = weight;
        Bias = bias;
        IsHead = isHead;
        Rows = weight.shape[0];
        Columns = weight.numel() / Rows;
    }

    public string Name { get; }
    public nn.Module<Tensor, Tensor> Module { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }
    public bool IsHead { get; }

    /// <summary>d: output neurons (rows of W).</summary>
    public long Rows { get; }

    /// <summary>m: inputs per neuron (columns of W).</summary>
    public long Columns { get; }

    public Conv2d? Conv => Module as Conv2d;

    /// <summary>W as a d×m matrix (a view; detached).</summary>
    public Tensor Matrix() => Weight.detach().reshape(Rows, Columns);

    public static FlatLayer Resolve(Classifier model, string? layer)
    {
        layer ??= model.HeadName;
        var modules = model.named_modules().Where(nm => nm.name.Length > 0).ToDictionary(nm => nm.name, nm => nm.module);
        var candidates = modules.Where(kv => kv.Value is Linear or Conv2d).Select(kv => kv.Key).ToArray();
        if (!modules.TryGetValue(layer, out var module))
            throw new BasinException($"unknown layer '{layer}'; linear and conv layers: {string.Join(", ", candidates)}");
        switch (module)
        {
            case Linear linear:
                return new FlatLayer(layer, linear, linear.weight!, linear.bias, ReferenceEquals(linear, model.Head));
            case Conv2d conv:
                if (conv.groups != 1) throw new BasinException($"layer '{layer}' is a grouped convolution ({conv.groups} groups); " +
                    "relative flatness needs groups = 1");
                if (conv.padding_type is not null || conv.padding_mode != PaddingModes.Zeros)
                    throw new BasinException($"layer '{layer}' uses {conv.padding_type?.ToString() ?? conv.padding_mode.ToString()} " +
                        "padding; relative flatness handles numeric zero padding");
                return new FlatLayer(layer, conv, conv.weight!, conv.bias, isHead: false);
            default:
                throw new BasinException($"layer '{layer}' is a {module.GetType().Name}; relative flatness needs a Linear or Conv2d " +
                    $"layer ({string.Join(", ", candidates)})");
        }
    }

    /// <summary>
    /// The representations φ that W multiplies, one row per (example, position): a Linear layer's input [N,m];
    /// for a Conv2d the unfolded patches [N·L, m], channel-major like the reshaped weight.
    /// </summary>
    public Tensor Features(Tensor layerInput)
    {
        if (Conv is not Conv2d conv) return layerInput.flatten(1);
        var k = conv.kernel_size;
        // Resolve() admits only numeric padding, so padding is set.
        var padding = conv.padding ?? throw new BasinException($"layer '{Name}' has no numeric padding");
        using var patches = nn.functional.unfold(layerInput, (k[0], k[1]), (conv.dilation[0], conv.dilation[1]), (padding[0], padding[1]),
            (conv.stride[0], conv.stride[1]));
        using var t = patches.transpose(1, 2);
        return t.reshape(-1, Columns);
    }
}
