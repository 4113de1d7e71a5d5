using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// Symmetric label noise as in Zhang et al., "Understanding deep learning requires rethinking
/// generalization": a fraction of the training labels is replaced by random labels. Here a
/// corrupted label is always a <em>different</em> label, drawn uniformly from the other K − 1
/// classes, so exactly round(fraction·N) examples are wrong (with "any label" about 1/K of them
/// would silently stay correct). round is to nearest, halves away from zero.
/// </summary>
public static class LabelNoise
{
    /// <summary>
    /// A copy of <paramref name="data"/> in which exactly round(<paramref name="fraction"/>·N) examples,
    /// chosen uniformly by <paramref name="seed"/>, carry a different label in 0..K−1, where K is
    /// <paramref name="classCount"/> or the data set's class count.
    /// </summary>
    public static LabelNoiseResult Apply(LabeledDataset data, double fraction, long seed, int? classCount = null)
    {
        if (!(fraction >= 0 && fraction <= 1))
            throw new BasinException($"{data.Name}: label-noise fraction must be in [0, 1], got {fraction}");
        var k = classCount ?? data.ClassCount;
        long[] labels;
        using (var contiguous = data.Labels.contiguous()) labels = contiguous.data<long>().ToArray();
        for (var i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= k)
                throw new BasinException($"{data.Name}: label {labels[i]} at index {i} is outside 0..{k - 1}");

        var corruptedCount = (long)Math.Round(fraction * data.Count, MidpointRounding.AwayFromZero);
        if (corruptedCount > 0 && k < 2)
            throw new BasinException($"{data.Name}: label noise needs at least 2 classes to pick a different label, got {k}");

        var random = SeededRandom.Create(seed);
        var corrupted = random.ChooseIndices(data.Count, corruptedCount);
        foreach (var i in corrupted)
            labels[i] = (labels[i] + 1 + random.Next(k - 1)) % k;

        var noisy = new LabeledDataset(data.Name, data.Inputs.clone(), tensor(labels, new[] { data.Count }), Math.Max(k, data.ClassCount));
        return new LabelNoiseResult(noisy, corrupted);
    }
}
