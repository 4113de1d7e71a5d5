using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// Per-example gradients g_i = ∇ℓ(f(x_i), y_i) of the cross-entropy, one tensor [B, ...shape] per trainable
/// parameter (in <see cref="NamedParameter.Of"/> order).
///
/// Fast path (MLP, LeNet-5): one replayed forward pass (<see cref="LayerTrace"/>) and one backward pass of Σ_i ℓ_i
/// to the layer outputs give δ_i = ∂ℓ_i/∂z_i (example i's loss depends only on row i). Then, with a_i the layer's
/// input, a Linear layer's g_i(W) = δ_i a_iᵀ and g_i(b) = δ_i; a Conv2d's g_i(W) = δ_i U_iᵀ with U_i the unfolded
/// input patches [C_in·k_h·k_w, L] and g_i(b) = Σ_positions δ_i — batched matrix products, no per-example backward.
/// <see cref="Exact"/> is the slow reference: one forward and backward pass per example.
/// </summary>
public static class PerExampleGradients
{
    /// <summary>Per-example gradients; the fast path where the model can be replayed, else <see cref="Exact"/>.</summary>
    public static Tensor[] Compute(Classifier model, Tensor inputs, Tensor labels)
    {
        if (!LayerTrace.Supports(model)) return Exact(model, inputs, labels);
        using var scope = NewDisposeScope();
        var trace = LayerTrace.Run(model, inputs);
        CheckLabels(trace.Logits, labels);
        var loss = nn.functional.cross_entropy(trace.Logits, labels, reduction: nn.Reduction.Sum);
        var result = FromTrace(model, trace, loss, retainGraph: false);
        foreach (var t in result) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>
    /// Per-example gradients from a traced forward pass and the summed per-example loss on it (Σ_i ℓ_i).
    /// Keeps the graph when <paramref name="retainGraph"/> (another term will be differentiated on it).
    /// </summary>
    public static Tensor[] FromTrace(Classifier model, LayerTrace trace, Tensor summedLoss, bool retainGraph)
    {
        var parameters = NamedParameter.Of(model);
        var outputs = trace.Layers.Select(l => l.Output).ToArray();
        var deltas = torch.autograd.grad([summedLoss], outputs, retain_graph: retainGraph, allow_unused: true);
        var byParameter = new Dictionary<string, Tensor>();
        using (no_grad())
        {
            for (int k = 0; k < trace.Layers.Count; k++)
            {
                var layer = trace.Layers[k];
                var delta = deltas[k] is { IsInvalid: false } d ? d : zeros_like(layer.Output);
                var input = layer.Input.detach();
                switch (layer.Module)
                {
                    case Linear linear:
                        {
                            byParameter[$"{layer.Name}.weight"] = delta.unsqueeze(2).bmm(input.unsqueeze(1));   // [B,d,1]·[B,1,m]
                            if (linear.bias is not null) byParameter[$"{layer.Name}.bias"] = delta.clone();
                            break;
                        }
                    case Conv2d conv:
                        {
                            if (conv.groups != 1) throw new BasinException("per-example gradients of grouped convolution " +
                                $"'{layer.Name}' are not supported");
                            var k2 = conv.kernel_size;
                            var pad = conv.padding ?? throw new BasinException($"per-example gradients of '{layer.Name}' " +
                                "need numeric padding");
                            var patches = nn.functional.unfold(input, (k2[0], k2[1]), (conv.dilation[0], conv.dilation[1]),
                                (pad[0], pad[1]), (conv.stride[0], conv.stride[1]));           // [B, Cin·kh·kw, L]
                            var d3 = delta.flatten(2);                                                          // [B, Cout, L]
                            var w = conv.weight!;
                            byParameter[$"{layer.Name}.weight"] = d3.bmm(patches.transpose(1, 2)).reshape([delta.shape[0], .. w.shape]);
                            if (conv.bias is not null) byParameter[$"{layer.Name}.bias"] = d3.sum(2);
                            break;
                        }
                    default:
                        throw new BasinException($"per-example gradients: layer '{layer.Name}' is neither Linear nor Conv2d");
                }
            }
        }
        var result = new Tensor[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            if (!byParameter.TryGetValue(parameters[i].Name, out var g))
                throw new BasinException($"per-example gradients: parameter '{parameters[i].Name}' is not in a " +
                    "replayed Linear/Conv2d layer");
            result[i] = g;
        }
        return result;
    }

    /// <summary>The slow exact reference: ℓ_i's gradient by its own forward and backward pass, for any model.</summary>
    public static Tensor[] Exact(Classifier model, Tensor inputs, Tensor labels, CancellationToken cancellationToken = default)
    {
        var parameters = NamedParameter.Of(model);
        long b = inputs.shape[0];
        var columns = parameters.Select(_ => new List<Tensor>()).ToArray();
        using var scope = NewDisposeScope();
        for (long i = 0; i < b; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var logits = model.forward(inputs.narrow(0, i, 1));
            var y = labels.narrow(0, i, 1);
            CheckLabels(logits, y);
            var loss = nn.functional.cross_entropy(logits, y);
            var grads = torch.autograd.grad([loss], parameters.Select(p => p.Value).ToArray(), allow_unused: true);
            for (int k = 0; k < parameters.Length; k++)
                columns[k].Add(grads[k] is { } g && !g.IsInvalid ? g.detach() : zeros_like(parameters[k].Value));
        }
        var result = columns.Select(c => stack(c)).ToArray();
        foreach (var t in result) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>Per-parameter gradients [B, ...] as one matrix [B, P]: each example's gradient flattened, parameters in order.</summary>
    public static Tensor Flatten(IReadOnlyList<Tensor> perParameter)
    {
        if (perParameter.Count == 0) throw new BasinException("per-example gradients of no parameters");
        long b = perParameter[0].shape[0];
        return cat(perParameter.Select(g => g.reshape(b, -1)).ToArray(), 1);
    }

    internal static void CheckLabels(Tensor logits, Tensor labels)
    {
        if (labels.dim() != 1 || labels.shape[0] != logits.shape[0] || labels.dtype != ScalarType.Int64)
            throw new BasinException($"per-example gradients need int64 labels [{logits.shape[0]}], got {labels.dtype} " +
                $"[{string.Join(",", labels.shape)}]");
        if (labels.numel() > 0 && (labels.min().ToInt64() < 0 || labels.max().ToInt64() >= logits.shape[1]))
            throw new BasinException($"labels must lie in [0, {logits.shape[1]})");
    }
}
