using Basin.Curvature;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Flatness;

/// <summary>One perturbation size: the Monte-Carlo E_F with its standard error, and the second-order prediction δ²κ_Tr/(2m).</summary>
public sealed record FeatureRobustnessPoint(double Delta, double Empirical, double StandardError, double Predicted);

public sealed record FeatureRobustnessResult(string Layer, double Kappa, FlatnessVariant KappaVariant, long Columns, int Samples,
    IReadOnlyList<FeatureRobustnessPoint> Points);

/// <summary>
/// Feature robustness ("Relative Flatness and Generalization", docs/definitions.md §1e): for a perturbation A of the
/// layer's input features, E_F(δA) = mean_n ℓ(g(W(I+δA)φ_n), y_n) − ℓ(g(Wφ_n), y_n), a weight perturbation
/// W → W + δWA. Averaged over Haar-random orthogonal A, E[(WA)_{sk}(WA)_{tl}] = δ_{kl}⟨W_s,W_t⟩/m, so at a
/// minimum of the layer E_F ≈ δ²κ_Tr/(2m). Both are reported side by side for several δ.
/// </summary>
public static class FeatureRobustness
{
    /// <param name="samples">Random orthogonal matrices A; each is used at every δ.</param>
    /// <param name="options">Chunk size and loss; κ_Tr is the plain (unnormalized, no weight decay, raw features) value.</param>
    public static FeatureRobustnessResult Measure(Classifier model, LabeledDataset data, IReadOnlyList<double> deltas, string? layer = null,
        int samples = 100, long seed = 0, FlatnessOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (deltas.Count == 0) throw new BasinException("feature robustness needs at least one δ");
        if (samples < 2) throw new BasinException($"feature robustness needs at least 2 samples, got {samples}");
        options = (options ?? new FlatnessOptions()) with { Normalized = false, WeightDecay = 0, NormalizeFeatures = false, Seed = seed };
        var flat = FlatLayer.Resolve(model, layer);
        var kappaVariant = flat.IsHead && options.Loss is null ? FlatnessVariant.ClosedForm
            : flat.Rows * flat.Columns <= 4096 ? FlatnessVariant.Block : FlatnessVariant.Estimator;
        double kappa = RelativeFlatness.Measure(model, data, flat.Name, kappaVariant, options, cancellationToken).Value;

        using var eval = new EvalMode(model);
        var lossOnData = new LossOnData(model, data, flat.Weight.dtype, options.Curvature);
        // For the head only W changes, so the features are computed once and each perturbation costs a matrix product.
        using var headFeatures = flat.IsHead ? HeadFeatures(model, lossOnData) : null;
        double MeanLoss() => headFeatures is null ? lossOnData.MeanLoss() : HeadMeanLoss(model, lossOnData, headFeatures);
        double baseLoss = MeanLoss();
        var stats = deltas.Select(_ => new RunningMean()).ToArray();
        using var generator = new torch.Generator(unchecked((ulong)seed));
        using var snapshot = WeightSnapshot.Of([flat.Weight]);
        var original = snapshot.Values[0];
        try
        {
            for (int i = 0; i < samples; i++)
            {
                using var scope = torch.NewDisposeScope();
                var wa = original.reshape(flat.Rows, flat.Columns).mm(RandomOrthogonal(flat.Columns, generator, original.dtype));
                for (int j = 0; j < deltas.Count; j++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using (torch.no_grad())
                    using (var delta = deltas[j].ToScalar())
                        flat.Weight.copy_(original.add(wa.reshape(original.shape), delta));
                    stats[j].Add(MeanLoss() - baseLoss);
                }
            }
        }
        finally
        {
            snapshot.Restore();
        }
        var points = deltas.Select((delta, j) =>
            new FeatureRobustnessPoint(delta, stats[j].Mean, stats[j].StandardError, delta * delta * kappa / (2 * flat.Columns))).ToArray();
        return new FeatureRobustnessResult(flat.Name, kappa, kappaVariant, flat.Columns, samples, points);
    }

    sealed class FeatureChunks(List<Tensor> chunks) : IDisposable
    {
        public List<Tensor> Chunks { get; } = chunks;
        public void Dispose() => ParamVectors.Dispose(Chunks);
    }

    static FeatureChunks HeadFeatures(Classifier model, LossOnData lossOnData)
    {
        using var noGrad = torch.no_grad();
        var chunks = new List<Tensor>();
        for (int c = 0; c < lossOnData.ChunkCount; c++)
        {
            using var scope = torch.NewDisposeScope();
            var (x, _, _) = lossOnData.Chunk(c);
            chunks.Add(model.Features(x).MoveToOuterDisposeScope());
        }
        return new FeatureChunks(chunks);
    }

    static double HeadMeanLoss(Classifier model, LossOnData lossOnData, FeatureChunks features)
    {
        using var noGrad = torch.no_grad();
        double total = 0;
        for (int c = 0; c < lossOnData.ChunkCount; c++)
        {
            using var scope = torch.NewDisposeScope();
            var (_, y, w) = lossOnData.Chunk(c);
            // Cross-entropy in float64: E_F at small δ is a difference far below float32's resolution of the loss.
            var logits = model.Head.forward(features.Chunks[c]);
            if (lossOnData.CustomLoss is null) logits = logits.to_type(ScalarType.Float64);
            total += w * lossOnData.Loss(logits, y).ToDouble();
        }
        return total;
    }

    /// <summary>A Haar-random m×m orthogonal matrix: QR of a Gaussian matrix, columns signed by diag(R).</summary>
    public static Tensor RandomOrthogonal(long m, Generator generator, ScalarType dtype = ScalarType.Float64)
    {
        using var scope = torch.NewDisposeScope();
        var (q, r) = torch.linalg.qr(torch.randn([m, m], ScalarType.Float64, generator: generator));
        using var zero = 0.ToScalar();
        var signs = torch.where(r.diagonal().ge(zero), torch.tensor(1.0), torch.tensor(-1.0));   // scalar tensors held by the scope
        return q.mul(signs.unsqueeze(0)).to_type(dtype).MoveToOuterDisposeScope();
    }
}
