using Basin.Data;
using Basin.Training;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Landscape;

/// <summary>Mean cross-entropy and accuracy at one point of weight space; NaN when the loss overflowed there.</summary>
public sealed record SurfacePoint(double Loss, double Accuracy);

/// <summary>
/// The loss of one model at points θ₀ + Σᵢ cᵢ·dᵢ near its own weights θ₀, on a fixed data set, in eval mode and without
/// gradients. The data is converted to the weights' dtype once and cut into chunks of at most <c>chunkSize</c> examples (memory bounded by
/// the chunk); each point is set in place (θ ← θ₀, then θ += cᵢ·dᵢ), so no tensor is allocated per point for the weights.
/// The loss is the plain mean cross-entropy (no weight decay), summed by <see cref="Evaluation.Totals"/> as in
/// <see cref="Evaluation.Evaluate"/>, so at c = 0 it equals that evaluation exactly for the same chunk size. Disposing restores θ₀ and
/// the model's mode.
/// </summary>
public sealed class LossSurface : IDisposable
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly Tensor[] parameters;
    readonly WeightSnapshot origin;
    readonly Tensor[] inputs;
    readonly Tensor[] labels;
    readonly bool wasTraining;
    readonly long count;
    bool disposed;

    public LossSurface(nn.Module<Tensor, Tensor> model, LabeledDataset data, int chunkSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (chunkSize < 1) throw new BasinException($"chunk size must be at least 1, got {chunkSize}");
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples; a loss surface needs at least one");
        this.model = model;
        parameters = model.parameters().Cast<Tensor>().ToArray();
        if (parameters.Length == 0) throw new BasinException("the model has no parameters");
        var dtype = parameters[0].dtype;
        origin = WeightSnapshot.OfParameters(model);
        count = data.Count;
        var chunks = data.Chunks(chunkSize);
        inputs = chunks.Select(c => c.Inputs(dtype).contiguous()).ToArray();
        labels = chunks.Select(c => c.Labels().contiguous()).ToArray();
        wasTraining = model.training;
        model.eval();
    }

    /// <summary>Number of examples the loss is averaged over.</summary>
    public long Count => count;

    /// <summary>The weights θ₀ the surface is centred on (the model's weights at construction).</summary>
    public IReadOnlyList<Tensor> Origin => origin.Values;

    /// <summary>Loss and accuracy at θ₀ + Σᵢ <paramref name="coefficients"/>[i]·<paramref name="directions"/>[i].</summary>
    public SurfacePoint At(IReadOnlyList<double> coefficients, IReadOnlyList<IReadOnlyList<Tensor>> directions)
    {
        if (coefficients.Count != directions.Count)
            throw new BasinException($"{coefficients.Count} coefficients for {directions.Count} directions");
        origin.Restore();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < directions.Count; i++)
        {
            CheckShapes(directions[i]);
            if (coefficients[i] == 0) continue;
            using var c = coefficients[i].ToScalar();
            for (int p = 0; p < parameters.Length; p++) parameters[p].add_(directions[i][p], c);
        }
        return Evaluate();
    }

    /// <summary>Loss and accuracy at explicit weights <paramref name="weights"/> (one tensor per parameter), copied in place.</summary>
    public SurfacePoint AtWeights(IReadOnlyList<Tensor> weights)
    {
        CheckShapes(weights);
        using var noGrad = torch.no_grad();
        for (int p = 0; p < parameters.Length; p++) parameters[p].copy_(weights[p]);
        return Evaluate();
    }

    /// <summary>Loss and accuracy at the model's current weights.</summary>
    SurfacePoint Evaluate()
    {
        var (lossSum, correct) = Evaluation.Totals(model, inputs.Length, c => (inputs[c], labels[c]));
        return new SurfacePoint(lossSum / count, (double)correct / count);
    }

    void CheckShapes(IReadOnlyList<Tensor> d)
    {
        if (d.Count != parameters.Length)
            throw new BasinException($"a direction has {d.Count} tensors but the model has {parameters.Length} parameters");
        for (int p = 0; p < parameters.Length; p++)
            if (!d[p].shape.SequenceEqual(parameters[p].shape))
                throw new BasinException($"direction tensor {p} has shape [{string.Join(",", d[p].shape)}] but the parameter has " +
                    $"[{string.Join(",", parameters[p].shape)}]");
    }

    /// <summary>Puts θ₀ back into the model.</summary>
    public void Restore() => origin.Restore();

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Restore();
        model.train(wasTraining);
        origin.Dispose();
        ParamVectors.Dispose(inputs);
        ParamVectors.Dispose(labels);
    }
}
