using Basin.Flatness;
using Basin.Native;
using Basin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The Gauss–Newton part of the Hessian (Sagun et al. 2017, "Empirical Analysis of the Hessian of
/// Over-Parametrized Neural Networks"): G = (1/N) Σ_n J_nᵀ ∇²ℓ_n J_n, with J_n the Jacobian of the logits
/// by the parameters and ∇²ℓ_n the loss Hessian in logit space (diag(p) − ppᵀ for cross-entropy).
/// Products G v need J v, which reverse mode gives through the "R-op by double backward" trick:
/// with a dummy u, Jᵀu is linear in u, and J v = ∂/∂u ⟨Jᵀu, v⟩. G is positive semi-definite for convex losses.
/// </summary>
public sealed class GaussNewtonVectorProduct : ICurvatureProduct
{
    readonly LossOnData lossOnData;
    readonly nn.Module<Tensor, Tensor> model;
    readonly Tensor[] paramTensors;

    public GaussNewtonVectorProduct(nn.Module<Tensor, Tensor> model, LabeledDataset data, ParameterSet parameters,
        CurvatureOptions? options = null)
    {
        options ??= CurvatureOptions.Default;
        this.model = model;
        Parameters = parameters;
        lossOnData = new LossOnData(model, data, parameters.DType, options);
        paramTensors = parameters.Parameters.Cast<Tensor>().ToArray();
        using var eval = new EvalMode(model);
        using var grad = torch.enable_grad();
        using var scope = torch.NewDisposeScope();
        GradientPath.Check(lossOnData.ChunkLoss(0), parameters);
    }

    public ParameterSet Parameters { get; }
    public IReadOnlyList<long[]> Shapes => Parameters.Shapes;
    public ScalarType DType => Parameters.DType;
    public long Dimension => Parameters.Count;
    public long ProductCount { get; private set; }

    public Tensor[] Apply(IReadOnlyList<Tensor> v)
    {
        using var eval = new EvalMode(model);
        using var grad = torch.enable_grad();
        Tensor[] result;
        using (var outer = torch.NewDisposeScope())
        {
            var acc = ParamVectors.Zeros(Shapes, DType);
            for (int c = 0; c < lossOnData.ChunkCount; c++)
            {
                using var scope = torch.NewDisposeScope();
                var (x, y, _) = lossOnData.Chunk(c);
                var logits = model.forward(x);
                var jv = JacobianTimes(logits, v);
                var ajv = LossHessianTimes(logits.detach(), y, jv);
                var gv = torch.autograd.grad([logits], paramTensors, [ajv], retain_graph: false, create_graph: false, allow_unused: true);
                ParamVectors.AddInPlace(acc, GradientPath.OrZeros(gv, Parameters), 1.0 / lossOnData.Count);
            }
            foreach (var t in acc) t.MoveToOuterDisposeScope();
            result = acc;
        }
        ProductCount++;
        return result;
    }

    // J v by double backward: Jᵀu with a dummy u (graph kept), then the gradient of ⟨Jᵀu, v⟩ by u.
    Tensor JacobianTimes(Tensor logits, IReadOnlyList<Tensor> v)
    {
        var u = torch.zeros_like(logits).requires_grad_(true);
        var jtu = GradientPath.OrZeros(torch.autograd.grad([logits], paramTensors, [u], retain_graph: true, create_graph: true,
            allow_unused: true), Parameters);
        Tensor? dot = null;
        for (int i = 0; i < jtu.Length; i++)
        {
            var term = jtu[i].mul(v[i]).sum();
            dot = dot is null ? term : dot.add(term, Scalars.One);
        }
        if (dot is null || !dot.requires_grad) return torch.zeros_like(logits);
        return torch.autograd.grad([dot], [u], null, retain_graph: true, create_graph: false, allow_unused: true) is var r
            && r[0] is { IsInvalid: false } jv
            ? jv : torch.zeros_like(logits);
    }

    // Per example: ∇²ℓ_n (J v)_n. Closed form for cross-entropy; otherwise by double backward in logit space,
    // scaled by the chunk size because the loss is the chunk mean.
    Tensor LossHessianTimes(Tensor logits, Tensor labels, Tensor jv)
    {
        if (lossOnData.CustomLoss is null)
        {
            var p = nn.functional.softmax(logits, 1);
            var pjv = p.mul(jv);
            return pjv.sub(p.mul(pjv.sum(1, keepdim: true)));
        }
        var z = logits.clone().requires_grad_(true);
        var loss = lossOnData.Loss(z, labels);
        if (!loss.requires_grad) return torch.zeros_like(jv);
        var gz = torch.autograd.grad([loss], [z], null, retain_graph: true, create_graph: true, allow_unused: true)[0];
        if (gz is null || gz.IsInvalid || !gz.requires_grad) return torch.zeros_like(jv);
        var hz = torch.autograd.grad([gz.mul(jv).sum()], [z], null, retain_graph: false, create_graph: false, allow_unused: true)[0];
        if (hz is null || hz.IsInvalid) return torch.zeros_like(jv);
        using var n = logits.shape[0].ToScalar();
        return hz.mul(n);
    }
}
