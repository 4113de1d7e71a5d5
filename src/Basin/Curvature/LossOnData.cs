using Basin.Flatness;
using Basin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Curvature;

/// <summary>
/// A model, a data set and a loss, seen chunk by chunk: inputs are converted to the parameters' dtype,
/// and each chunk carries its weight n_chunk/N so that Σ_chunks weight·(chunk mean) is the data mean.
/// </summary>
sealed class LossOnData
{
    public LossOnData(nn.Module<Tensor, Tensor> model, LabeledDataset data, ScalarType dtype, CurvatureOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new BasinException($"{data.Name}: no examples; curvature needs at least one sample");
        if (options.ChunkSize < 1) throw new BasinException($"chunk size must be at least 1, got {options.ChunkSize}");
        Model = model;
        Data = data;
        DType = dtype;
        ChunkSize = options.ChunkSize;
        CustomLoss = options.Loss;
        chunks = data.Chunks(options.ChunkSize);
    }

    readonly IReadOnlyList<DataChunk> chunks;

    public nn.Module<Tensor, Tensor> Model { get; }
    public LabeledDataset Data { get; }
    public ScalarType DType { get; }
    public int ChunkSize { get; }
    public Func<Tensor, Tensor, Tensor>? CustomLoss { get; }
    public long Count => Data.Count;
    public int ChunkCount => chunks.Count;

    /// <summary>Inputs (in the model's dtype), labels and weight n_chunk/N of chunk <paramref name="index"/>; created in the caller's
    /// scope.</summary>
    public (Tensor inputs, Tensor labels, double weight) Chunk(int index)
    {
        var chunk = chunks[index];
        return (chunk.Inputs(DType), chunk.Labels(), chunk.Weight);
    }

    /// <summary>The chunk's mean loss; throws <see cref="BasinException"/> if it is not a scalar.</summary>
    public Tensor Loss(Tensor logits, Tensor labels)
    {
        if (CustomLoss is null) CheckLabels(logits, labels);
        var loss = CustomLoss is null ? nn.functional.cross_entropy(logits, labels) : CustomLoss(logits, labels);
        if (loss.numel() != 1) throw new BasinException("the loss must be a scalar (the chunk mean), got shape " +
            $"[{string.Join(",", loss.shape)}]");
        return loss;
    }

    /// <summary>The model's mean loss on chunk <paramref name="index"/>, with its graph when autograd is on; in the caller's
    /// scope.</summary>
    public Tensor ChunkLoss(int index)
    {
        var (x, y, _) = Chunk(index);
        return Loss(Model.forward(x), y);
    }

    // libtorch aborts the process on a class index outside the logits; say which instead.
    static void CheckLabels(Tensor logits, Tensor labels)
    {
        if (logits.dim() != 2) throw new BasinException($"cross-entropy needs logits [N,classes], got [{string.Join(",", logits.shape)}]");
        using var min = labels.min();
        using var max = labels.max();
        long lo = min.ToInt64(), hi = max.ToInt64();
        if (lo < 0 || hi >= logits.shape[1])
            throw new BasinException($"labels must lie in 0..{logits.shape[1] - 1} for a model with {logits.shape[1]} outputs, found " +
                $"{(lo < 0 ? lo : hi)}");
    }

    /// <summary>The mean loss over all data, accumulated in double; no gradients.</summary>
    public double MeanLoss()
    {
        using var noGrad = torch.no_grad();
        double total = 0;
        for (int c = 0; c < ChunkCount; c++)
        {
            using var scope = torch.NewDisposeScope();
            var (x, y, w) = Chunk(c);
            total += w * Loss(Model.forward(x), y).ToDouble();
        }
        return total;
    }
}
