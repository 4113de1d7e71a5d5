using Basin.Native;
using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Measures;

/// <summary>
/// The Fisher–Rao norm (Liang et al. 2019), empirical form: ‖θ‖²_fr = (1/N) Σ_n ⟨θ, ∇_θ ℓ(f_θ(x_n), y_n)⟩² over all
/// parameters, with the training labels. ⟨θ, ∇_θ ℓ_n⟩ is the derivative of ℓ_n along t ↦ (1+t)θ; every example's
/// value comes from one double-backward pass per chunk: with u ∈ R^n, ∂/∂u ⟨θ, ∇_θ Σ u_n ℓ_n⟩ = (⟨θ, ∇_θ
/// ℓ_n⟩)_n. Any function-preserving linear reparametrization T commutes with the scaling (1+t), so the value is unchanged
/// by rescalings (for bias-free ReLU networks it equals (L+1)²·(1/N)Σ⟨∂ℓ/∂f, f⟩², Liang et al.'s form).
/// </summary>
public static class FisherRao
{
    /// <summary>The per-example directional derivatives ⟨θ, ∇_θ ℓ_n⟩, float64 [N].</summary>
    public static double[] Directional(Classifier model, LabeledDataset data, int chunkSize = 1000)
    {
        using var eval = new EvalMode(model);
        using var grad = torch.enable_grad();
        var parameters = model.parameters().Where(p => p.requires_grad).Cast<Tensor>().ToArray();
        if (parameters.Length == 0) throw new BasinException("the Fisher–Rao norm needs parameters that require gradients");
        var dtype = parameters[0].dtype;
        var result = new List<double>();
        foreach (var chunk in data.Chunks(chunkSize))
        {
            using var scope = torch.NewDisposeScope();
            long n = chunk.Count;
            var x = chunk.Inputs(dtype);
            var y = chunk.Labels();
            CheckLabels(y, model.ClassCount);
            var u = torch.ones(n, dtype: dtype, requires_grad: true);
            var losses = nn.functional.cross_entropy(model.forward(x), y, reduction: nn.Reduction.None);
            var g = torch.autograd.grad([losses.mul(u).sum()], parameters, null, retain_graph: true, create_graph: true,
                allow_unused: true);
            Tensor? s = null;
            for (int i = 0; i < g.Count; i++)
            {
                if (g[i] is null || g[i].IsInvalid) continue;
                var term = g[i].mul(parameters[i].detach()).sum();
                s = s is null ? term : s.add(term, Scalars.One);
            }
            if (s is null || !s.requires_grad) { result.AddRange(new double[n]); continue; }
            var du = torch.autograd.grad([s], [u], null, retain_graph: false, create_graph: false, allow_unused: true)[0];
            result.AddRange(du.to_type(ScalarType.Float64).data<double>().ToArray());
        }
        return result.ToArray();
    }

    public static double Compute(Classifier model, LabeledDataset data, int chunkSize = 1000) =>
        Directional(model, data, chunkSize).Select(v => v * v).Average();

    internal static void CheckLabels(Tensor labels, int classes)
    {
        using var min = labels.min();
        using var max = labels.max();
        if (min.ToInt64() < 0 || max.ToInt64() >= classes)
            throw new BasinException($"labels must lie in 0..{classes - 1} for a model with {classes} outputs");
    }
}
