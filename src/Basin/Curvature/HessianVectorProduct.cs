using Basin.Flatness;
using Basin.Native;
using Basin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The Hessian of the mean loss over a data set with respect to a parameter set, as an operator v ↦ Hv.
/// Double backward per chunk: g = ∇L_chunk (with its graph), then Hv = Σ_chunks (n_chunk/N)·∇(g·v).
/// Construction checks the gradient path on the first chunk, so misuse fails with a <see cref="BasinException"/>
/// before any second-order call. The model is evaluated in eval mode.
/// </summary>
public sealed class HessianVectorProduct : ICurvatureProduct, IDisposable
{
    readonly LossOnData lossOnData;
    readonly nn.Module<Tensor, Tensor> model;
    readonly Tensor[] paramTensors;
    Tensor[]? cachedGrads;   // first-order gradients with their graph, when all data is one chunk
    Tensor[]? cachedAt;      // the parameter values that graph was built at

    public HessianVectorProduct(nn.Module<Tensor, Tensor> model, LabeledDataset data, ParameterSet parameters,
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
        var loss = lossOnData.ChunkLoss(0);
        GradientPath.Check(loss, parameters);
        if (options.ReuseGraph && lossOnData.ChunkCount == 1)
        {
            cachedGrads = FirstOrder(loss);
            foreach (var g in cachedGrads) g.DetachFromDisposeScope();
            cachedAt = paramTensors.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
        }
    }

    // Parameters changed in place since the graph was built (reparametrization, a training step):
    // backward through the old graph would abort in libtorch, so build it again.
    void RefreshStaleGraph()
    {
        if (cachedGrads is null || cachedAt is null) return;
        bool stale = false;
        for (int i = 0; i < paramTensors.Length && !stale; i++)
        {
            using var equal = cachedAt[i].eq(paramTensors[i]);
            using var same = equal.all();
            stale = !same.item<bool>();
        }
        if (!stale) return;
        ParamVectors.Dispose(cachedGrads);
        ParamVectors.Dispose(cachedAt);
        using var scope = torch.NewDisposeScope();
        cachedGrads = FirstOrder(lossOnData.ChunkLoss(0));
        foreach (var g in cachedGrads) g.DetachFromDisposeScope();
        cachedAt = paramTensors.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    public ParameterSet Parameters { get; }
    public IReadOnlyList<long[]> Shapes => Parameters.Shapes;
    public ScalarType DType => Parameters.DType;
    public long Dimension => Parameters.Count;
    public long ProductCount { get; private set; }
    public long SampleCount => lossOnData.Count;

    public Tensor[] Apply(IReadOnlyList<Tensor> v)
    {
        CheckShapes(v);
        using var eval = new EvalMode(model);
        using var grad = torch.enable_grad();
        RefreshStaleGraph();
        Tensor[] result;
        using (var outer = torch.NewDisposeScope())
        {
            var acc = ParamVectors.Zeros(Shapes, DType);
            if (cachedGrads is not null)
                ParamVectors.AddInPlace(acc, SecondOrder(cachedGrads, v, retain: true));
            else
                for (int c = 0; c < lossOnData.ChunkCount; c++)
                {
                    using var scope = torch.NewDisposeScope();
                    var (x, y, weight) = lossOnData.Chunk(c);
                    var grads = FirstOrder(lossOnData.Loss(model.forward(x), y));
                    ParamVectors.AddInPlace(acc, SecondOrder(grads, v, retain: false), weight);
                }
            foreach (var t in acc) t.MoveToOuterDisposeScope();
            result = acc;
        }
        ProductCount++;
        return result;
    }

    /// <summary>The gradient of the mean loss over all data (no graph kept).</summary>
    public Tensor[] Gradient()
    {
        using var eval = new EvalMode(model);
        using var grad = torch.enable_grad();
        using var outer = torch.NewDisposeScope();
        var acc = ParamVectors.Zeros(Shapes, DType);
        for (int c = 0; c < lossOnData.ChunkCount; c++)
        {
            using var scope = torch.NewDisposeScope();
            var (x, y, weight) = lossOnData.Chunk(c);
            var g = torch.autograd.grad([lossOnData.Loss(model.forward(x), y)], paramTensors, null, false, false, true);
            ParamVectors.AddInPlace(acc, GradientPath.OrZeros(g, Parameters), weight);
        }
        foreach (var t in acc) t.MoveToOuterDisposeScope();
        return acc;
    }

    Tensor[] FirstOrder(Tensor loss) =>
        GradientPath.OrZeros(torch.autograd.grad([loss], paramTensors, null, retain_graph: true, create_graph: true, allow_unused: true),
            Parameters);

    /// <summary>
    /// Σ_i ∂(g_i·v_i)/∂θ as one vector-Jacobian product of the gradients with <paramref name="v"/> as their output
    /// gradients (no dot-product graph is built). Gradients that do not depend on the parameters contribute nothing;
    /// with none left the Hessian is zero (asking autograd anyway would abort).
    /// </summary>
    Tensor[] SecondOrder(Tensor[] grads, IReadOnlyList<Tensor> v, bool retain)
    {
        var outputs = new List<Tensor>(grads.Length);
        var directions = new List<Tensor>(grads.Length);
        for (int i = 0; i < grads.Length; i++)
            if (grads[i].requires_grad)
            {
                outputs.Add(grads[i]);
                directions.Add(v[i]);
            }
        if (outputs.Count == 0) return ParamVectors.Zeros(Shapes, DType);
        return GradientPath.OrZeros(torch.autograd.grad(outputs, paramTensors, directions, retain_graph: retain, create_graph: false,
            allow_unused: true), Parameters);
    }

    void CheckShapes(IReadOnlyList<Tensor> v)
    {
        if (v.Count != paramTensors.Length)
            throw new ArgumentException($"vector has {v.Count} tensors, the parameter set {paramTensors.Length}");
        for (int i = 0; i < v.Count; i++)
            if (!v[i].shape.SequenceEqual(paramTensors[i].shape) || v[i].dtype != DType)
                throw new ArgumentException($"vector tensor {i} is {v[i].dtype}[{string.Join(",", v[i].shape)}], parameter " +
                    $"'{Parameters.Names[i]}' is {DType}[{string.Join(",", paramTensors[i].shape)}]");
    }

    public void Dispose()
    {
        if (cachedGrads is not null) ParamVectors.Dispose(cachedGrads);
        if (cachedAt is not null) ParamVectors.Dispose(cachedAt);
        cachedGrads = null;
        cachedAt = null;
    }
}
