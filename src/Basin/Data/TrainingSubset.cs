using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>Smaller training sets for sample-size experiments.</summary>
public static class TrainingSubset
{
    /// <summary>The first <paramref name="n"/> examples in stored order (a copy).</summary>
    public static LabeledDataset First(LabeledDataset data, long n) => data.Take(n);

    /// <summary><paramref name="n"/> distinct examples chosen uniformly by <paramref name="seed"/>, kept in stored order (a
    /// copy).</summary>
    public static LabeledDataset Random(LabeledDataset data, long n, long seed)
    {
        if (n < 1) throw new BasinException($"{data.Name}: sample count must be at least 1, got {n}");
        if (n > data.Count) throw new BasinException($"{data.Name}: asked for {n} examples but the data set has {data.Count}");
        var chosen = SeededRandom.Create(seed).ChooseIndices(data.Count, n);
        using var indices = tensor(chosen, new[] { n });
        return data.Select(indices);
    }
}
