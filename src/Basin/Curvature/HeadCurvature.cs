using Basin.Flatness;
using Basin.Native;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// The exact Hessian of the mean softmax cross-entropy by the head's weight W ∈ R^{d×m}, from features computed
/// once: H[(s,k),(t,l)] = (1/N) Σ_n A_n[s,t] φ_n[k] φ_n[l], A_n = diag(p_n) − p_n p_nᵀ (docs/definitions.md §1a).
/// A product is two matrix products, HV = (1/N) (A∘(Φ Vᵀ))ᵀ Φ, with no pass through the network, so every
/// spectrum tool runs on the head at the cost of matrix algebra. The trace has a closed form too:
/// Tr H = (1/N) Σ_n ‖φ_n‖² Σ_s p_n[s](1 − p_n[s]).
/// Optional coordinates as in <see cref="RelativeFlatness"/>: features divided by σ (feature normalization)
/// and 2α added on the diagonal (weight decay). The labels do not enter: the cross-entropy Hessian in logit
/// space does not depend on them.
/// </summary>
public sealed class HeadCurvature : ICurvatureProduct, IDisposable
{
    readonly Tensor phi;         // [N,m], in the measuring coordinates
    readonly Tensor p;           // [N,d] softmax probabilities
    readonly double weightDecay;

    HeadCurvature(Tensor phi, Tensor p, double weightDecay)
    {
        this.phi = phi;
        this.p = p;
        this.weightDecay = weightDecay;
        Rows = p.shape[1];
        Columns = phi.shape[1];
        Count = phi.shape[0];
    }

    /// <summary>
    /// Runs the model's feature map over <paramref name="data"/> once (chunked, no gradients, eval mode) and keeps
    /// φ and softmax(Wφ + b). <paramref name="scale"/>: σ per feature ([m]) to measure in normalized coordinates, or null.
    /// </summary>
    public static HeadCurvature Create(Classifier model, LabeledDataset data, int chunkSize = 1000, Tensor? scale = null,
        double weightDecay = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples; curvature needs at least one sample");
        if (chunkSize < 1) throw new BasinException($"chunk size must be at least 1, got {chunkSize}");
        var weight = model.Head.weight!;
        if (!weight.is_floating_point()) throw new BasinException($"the head weight has dtype {weight.dtype}; curvature " +
            "needs floating point");
        using var eval = new EvalMode(model);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var phis = new List<Tensor>();
        foreach (var chunk in data.Chunks(chunkSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            phis.Add(model.Features(chunk.Inputs(weight.dtype)));
        }
        var features = phis.Count == 1 ? phis[0] : torch.cat(phis, 0);
        var probabilities = nn.functional.softmax(model.Head.forward(features), 1);
        if (scale is not null) features = features.div(scale.reshape(1, -1));
        return new HeadCurvature(features.contiguous().MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope(), weightDecay);
    }

    /// <summary>d: classes (rows of W).</summary>
    public long Rows { get; }

    /// <summary>m: features (columns of W).</summary>
    public long Columns { get; }

    /// <summary>N: examples.</summary>
    public long Count { get; }

    /// <summary>φ in the measuring coordinates, [N,m] (owned by this object).</summary>
    public Tensor Features => phi;

    public IReadOnlyList<long[]> Shapes => [[Rows, Columns]];
    public ScalarType DType => phi.dtype;
    public long Dimension => Rows * Columns;
    public long ProductCount { get; private set; }

    public Tensor[] Apply(IReadOnlyList<Tensor> v)
    {
        if (v.Count != 1 || v[0].numel() != Dimension || v[0].dtype != DType)
            throw new ArgumentException($"a head vector is one {DType} tensor of {Rows}×{Columns} entries");
        using var scope = torch.NewDisposeScope();
        var matrix = v[0].reshape(Rows, Columns);
        var z = phi.mm(matrix.T);                                    // (V φ_n)_s, [N,d]
        var pz = p.mul(z);
        var az = pz.sub(p.mul(pz.sum(1, keepdim: true)));           // A_n (V φ_n)
        using var count = Count.ToScalar();
        var hv = az.T.mm(phi).div_(count);
        if (weightDecay != 0) { using var decay = (2 * weightDecay).ToScalar(); hv = hv.add(matrix, decay); }
        ProductCount++;
        return [hv.reshape(v[0].shape).MoveToOuterDisposeScope()];
    }

    /// <summary>Tr H exactly, accumulated in float64 (plus 2α·d·m with weight decay).</summary>
    public double Trace()
    {
        using var scope = torch.NewDisposeScope();
        var norms = phi.to_type(ScalarType.Float64).pow(Scalars.Two).sum(1);
        var p64 = p.to_type(ScalarType.Float64);
        var diagonal = p64.sub(p64.pow(Scalars.Two)).sum(1);
        return norms.mul(diagonal).mean().ToDouble() + 2 * weightDecay * Dimension;
    }

    /// <summary>Tr of the Hessian by the head's bias, exactly: (1/N) Σ_n (1 − ‖p_n‖²), accumulated in float64.</summary>
    public double BiasTrace()
    {
        using var scope = torch.NewDisposeScope();
        var p64 = p.to_type(ScalarType.Float64);
        return p64.sub(p64.pow(Scalars.Two)).sum(1).mean().ToDouble();
    }

    /// <summary>κ_Tr of <paramref name="weight"/> (d×m, same coordinates) by the closed form, in float64, plus 2α·m·‖W‖²; not
    /// normalized.</summary>
    public double Kappa(Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        var w = weight.to_type(ScalarType.Float64).reshape(Rows, Columns);
        var p64 = p.to_type(ScalarType.Float64);
        var variance = p64.mv(w.pow(Scalars.Two).sum(1)).sub(p64.mm(w).pow(Scalars.Two).sum(1));
        var kappa = phi.to_type(ScalarType.Float64).pow(Scalars.Two).sum(1).mul(variance).mean().ToDouble();
        return kappa + 2 * weightDecay * Columns * w.pow(Scalars.Two).sum().ToDouble();
    }

    public void Dispose()
    {
        phi.Dispose();
        p.Dispose();
    }
}
