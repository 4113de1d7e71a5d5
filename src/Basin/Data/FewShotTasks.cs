using static TorchSharp.torch;

namespace Basin.Data;

/// <summary>A binary task on a 10-class image set: label 1 for the positive classes, 0 for the negative ones.</summary>
public sealed record FewShotTask(string Name, IReadOnlyList<long> Positive, IReadOnlyList<long> Negative);

/// <summary>
/// Few-shot binary tasks built from Fashion-MNIST. "footwear": sandal, sneaker or ankle boot (5, 7, 9) against every
/// other class, an easy task (a small CNN reaches about 99 % from 128 examples). "shirt": shirt (6) against the other
/// upper-body garments, T-shirt/top, pullover and coat (0, 2, 4), a hard one. Each set is balanced (half of each
/// label), drawn without replacement with a seed, so a (seed, count) always gives the same examples.
/// </summary>
public static class FewShotTasks
{
    /// <summary>The footwear classes of Fashion-MNIST: sandal, sneaker, ankle boot.</summary>
    public static IReadOnlyList<long> FootwearClasses { get; } = [5, 7, 9];

    public static IReadOnlyList<FewShotTask> All { get; } =
    [
        new("footwear", FootwearClasses, [0, 1, 2, 3, 4, 6, 8]),
        new("shirt", [6], [0, 2, 4]),
    ];

    public static FewShotTask Get(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new OptionException("task", $"unknown few-shot task '{name}' (known: {string.Join(", ", All.Select(t => t.Name))})");

    /// <summary>The footwear task (<see cref="Draw"/>).</summary>
    public static LabeledDataset Footwear(LabeledDataset source, int count, long seed) => Draw(All[0], source, count, seed);

    /// <summary>
    /// A balanced set of <paramref name="count"/> examples (even) of <paramref name="task"/> drawn from
    /// <paramref name="source"/> (10-class labels) with <paramref name="seed"/>.
    /// </summary>
    public static LabeledDataset Draw(FewShotTask task, LabeledDataset source, int count, long seed)
    {
        if (count < 2 || count % 2 != 0) throw new BasinException("a balanced few-shot set needs an even count of at " +
            $"least 2, got {count}");
        var labels = source.Labels.data<long>().ToArray();
        var footwear = Enumerable.Range(0, labels.Length).Where(i => task.Positive.Contains(labels[i])).ToList();
        var other = Enumerable.Range(0, labels.Length).Where(i => task.Negative.Contains(labels[i])).ToList();
        int half = count / 2;
        if (footwear.Count < half || other.Count < half)
            throw new BasinException($"{source.Name}: {footwear.Count} positive and {other.Count} negative examples of '{task.Name}'; " +
                $"{half} of each are needed");
        var random = Basin.Data.SeededRandom.Create(seed);
        var chosen = Shuffled(footwear, random).Take(half).Select(i => (Index: i, Label: 1L))
            .Concat(Shuffled(other, random).Take(half).Select(i => (Index: i, Label: 0L))).ToList();
        chosen = Shuffled(chosen, random);
        using var index = tensor(chosen.Select(c => (long)c.Index).ToArray());
        var inputs = source.Inputs.index_select(0, index);
        return new LabeledDataset($"{source.Name}-{task.Name}", inputs, tensor(chosen.Select(c => c.Label).ToArray()), 2);
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
