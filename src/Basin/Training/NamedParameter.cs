using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>A trainable parameter with its state_dict name (e.g. "fc1.weight").</summary>
public sealed record NamedParameter(string Name, Tensor Value)
{
    /// <summary>Parameters whose name ends in "bias" (PyTorch's naming), the ones weight decay may leave out.</summary>
    public bool IsBias => Name == "bias" || Name.EndsWith(".bias", StringComparison.Ordinal);

    /// <summary>The trainable parameters of a module in state_dict order (those with requires_grad).</summary>
    public static NamedParameter[] Of(TorchSharp.torch.nn.Module module)
    {
        var list = new List<NamedParameter>();
        foreach (var (name, p) in module.named_parameters())
            if (p.requires_grad) list.Add(new NamedParameter(name, p));
        return list.ToArray();
    }
}
