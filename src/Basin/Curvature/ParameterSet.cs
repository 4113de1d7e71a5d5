using Basin.Flatness;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The named parameters a curvature measure differentiates by: one layer ("fc3"), several, or all.
/// A layer name selects every parameter whose name is the name itself or starts with "name.";
/// a full parameter name ("fc3.weight") selects just that parameter.
/// Selection checks what libtorch would otherwise abort on: every parameter is a leaf that
/// requires gradients, and all share one floating dtype.
/// </summary>
public sealed class ParameterSet
{
    ParameterSet(IReadOnlyList<string> names, IReadOnlyList<Parameter> parameters)
    {
        Names = names;
        Parameters = parameters;
        Count = parameters.Sum(p => p.numel());
        DType = parameters[0].dtype;
    }

    public IReadOnlyList<string> Names { get; }
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Total number of scalar parameters (the dimension of the Hessian).</summary>
    public long Count { get; }

    public ScalarType DType { get; }

    public IReadOnlyList<long[]> Shapes => Parameters.Select(p => p.shape).ToArray();

    /// <summary>Every parameter of <paramref name="model"/>.</summary>
    public static ParameterSet All(nn.Module model) => Select(model);

    /// <summary>
    /// The parameters of the named layers (or full parameter names); no names or "all" means every parameter.
    /// Throws <see cref="BasinException"/> for an unknown name, listing the available layers.
    /// </summary>
    public static ParameterSet Select(nn.Module model, params string[] layers)
    {
        ArgumentNullException.ThrowIfNull(model);
        var all = model.named_parameters().ToList();
        if (all.Count == 0) throw new BasinException("the model has no parameters");
        bool everything = layers.Length == 0 || layers.Any(l => string.Equals(l, "all", StringComparison.OrdinalIgnoreCase));
        var chosen = new List<(string name, Parameter p)>();
        if (everything) chosen.AddRange(all);
        else
        {
            foreach (var layer in layers)
            {
                var hits = all.Where(np => np.name == layer || np.name.StartsWith(layer + ".", StringComparison.Ordinal)).ToList();
                if (hits.Count == 0)
                    throw new BasinException($"unknown layer '{layer}'; available: {string.Join(", ", LayerNames(model))}");
                foreach (var hit in hits)
                    if (!chosen.Any(c => c.name == hit.name)) chosen.Add(hit);
            }
        }
        Validate(chosen);
        return new ParameterSet(chosen.Select(c => c.name).ToArray(), chosen.Select(c => c.p).ToArray());
    }

    /// <summary>Layer prefixes of a model's parameters ("fc1", "conv2", "layer1.0.conv1"), in order.</summary>
    public static IReadOnlyList<string> LayerNames(nn.Module model) =>
        model.named_parameters().Select(np => np.name.Contains('.') ? np.name[..np.name.LastIndexOf('.')] : np.name)
            .Distinct().ToArray();

    static void Validate(List<(string name, Parameter p)> chosen)
    {
        var dtype = chosen[0].p.dtype;
        foreach (var (name, p) in chosen)
        {
            if (!p.is_floating_point())
                throw new BasinException($"parameter '{name}' has dtype {p.dtype}; curvature needs floating-point parameters");
            if (p.dtype != dtype)
                throw new BasinException($"parameter '{name}' has dtype {p.dtype} but '{chosen[0].name}' has {dtype}; convert " +
                    "the model to one dtype");
            if (!p.requires_grad)
                throw new BasinException($"parameter '{name}' does not require gradients (frozen); unfreeze it or leave it out " +
                    "of the parameter set");
            if (!p.is_leaf)
                throw new BasinException($"parameter '{name}' is not a leaf tensor of the model");
        }
    }
}
