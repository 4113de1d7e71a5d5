using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>
/// Few-shot binary tasks built from a 10-class image set. "Footwear": is the item a sandal, sneaker or ankle boot
/// (Fashion-MNIST classes 5, 7 and 9)? Label 1 for footwear, 0 otherwise; each set is balanced (half of each label),
/// drawn without replacement with a seed, so a (seed, count) always gives the same examples.
/// </summary>
public static class FewShotTasks
{
    /// <summary>The footwear classes of Fashion-MNIST: sandal, sneaker, ankle boot.</summary>
    public static IReadOnlyList<long> FootwearClasses { get; } = [5, 7, 9];

    /// <summary>
    /// A balanced binary "footwear" set of <paramref name="count"/> examples (even) drawn from <paramref name="source"/>
    /// (10-class labels) with <paramref name="seed"/>.
    /// </summary>
    public static LabeledDataset Footwear(LabeledDataset source, int count, long seed)
    {
        if (count < 2 || count % 2 != 0) throw new BasinException($"a balanced few-shot set needs an even count of at least 2, got {count}");
        var labels = source.Labels.data<long>().ToArray();
        var footwear = Enumerable.Range(0, labels.Length).Where(i => FootwearClasses.Contains(labels[i])).ToList();
        var other = Enumerable.Range(0, labels.Length).Where(i => !FootwearClasses.Contains(labels[i])).ToList();
        int half = count / 2;
        if (footwear.Count < half || other.Count < half)
            throw new BasinException($"{source.Name}: {footwear.Count} footwear and {other.Count} other examples; {half} of each are needed");
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        var chosen = Shuffled(footwear, random).Take(half).Select(i => (Index: i, Label: 1L))
            .Concat(Shuffled(other, random).Take(half).Select(i => (Index: i, Label: 0L))).ToList();
        chosen = Shuffled(chosen, random);
        using var index = tensor(chosen.Select(c => (long)c.Index).ToArray());
        var inputs = source.Inputs.index_select(0, index);
        return new LabeledDataset($"{source.Name}-footwear", inputs, tensor(chosen.Select(c => c.Label).ToArray()), 2);
    }

    static List<T> Shuffled<T>(IReadOnlyList<T> items, Random random)
    {
        var list = items.ToList();
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}
