namespace Basin.Data;

/// <summary>The kinds of data a user can bring (<see cref="DataSource"/>).</summary>
public enum DataSourceKind { Images, Csv, Tensors }

/// <summary>
/// A user's own data, named as "images:FOLDER" (<see cref="ImageFolder"/>), "csv:FILE" (<see cref="CsvTable"/>) or
/// "tensors:FILE" (<see cref="TensorFile"/>). Without a test source, the test set is every
/// <see cref="HoldOutEvery"/>-th example (the 5th, 10th, ...), and the rest trains; an image folder with "train" and
/// "test" subfolders uses those instead.
/// </summary>
public sealed record DataSource(DataSourceKind Kind, string Path)
{
    /// <summary>Without a test source, every this-many-th example is held out for testing (20 %).</summary>
    public const int HoldOutEvery = 5;

    static readonly Dictionary<string, DataSourceKind> Prefixes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["images"] = DataSourceKind.Images, ["csv"] = DataSourceKind.Csv, ["tensors"] = DataSourceKind.Tensors,
    };

    /// <summary>The prefixes, e.g. for help text.</summary>
    public static IReadOnlyList<string> Forms { get; } = ["images:FOLDER", "csv:FILE", "tensors:FILE"];

    /// <summary>True when <paramref name="name"/> names a user source (has one of the prefixes).</summary>
    public static bool IsUserData(string name) => TryParse(name, out _);

    public static bool TryParse(string name, out DataSource source)
    {
        source = null!;
        int colon = name.IndexOf(':');
        if (colon <= 0 || !Prefixes.TryGetValue(name[..colon], out var kind)) return false;
        source = new DataSource(kind, name[(colon + 1)..]);
        return true;
    }

    public static DataSource Parse(string name) => TryParse(name, out var s) && s.Path.Length > 0 ? s
        : throw new BasinException($"'{name}' is not a data source: write {string.Join(", ", Forms)}");

    /// <summary>The name with an absolute path, so a stored run finds its data from any working folder.</summary>
    public string Name => $"{Kind.ToString().ToLowerInvariant()}:{System.IO.Path.GetFullPath(Path)}";

    /// <summary>
    /// Training and test sets: from <paramref name="test"/> when given (same kind), else as the type summary says.
    /// The first <paramref name="samples"/> / <paramref name="testSamples"/> examples are kept when given.
    /// </summary>
    public static (LabeledDataset Train, LabeledDataset Test) Load(DataSource train, DataSource? test, long? samples, long? testSamples)
    {
        if (test is not null && test.Kind != train.Kind)
            throw new BasinException($"the test data must be of the training data's kind ({train.Kind.ToString().ToLowerInvariant()}), " +
                $"got {test.Kind.ToString().ToLowerInvariant()}");
        if (test is null && train.Kind == DataSourceKind.Images
            && Directory.Exists(System.IO.Path.Combine(train.Path, "train"))
            && Directory.Exists(System.IO.Path.Combine(train.Path, "test")))
            (train, test) = (train with { Path = System.IO.Path.Combine(train.Path, "train") },
                train with { Path = System.IO.Path.Combine(train.Path, "test") });

        var (full, classNames) = train.LoadAlone();
        LabeledDataset trainSet, testSet;
        try
        {
            if (test is not null)
            {
                trainSet = full;
                testSet = test.LoadLike(full, classNames);
            }
            else
            {
                if (full.Count < HoldOutEvery)
                    throw new BasinException($"{train.Path}: {full.Count} examples are too few to hold out a test set; give one");
                using (full) (trainSet, testSet) = HoldOut(full);
            }
        }
        catch
        {
            full.Dispose();
            throw;
        }
        try
        {
            trainSet = Keep(trainSet, samples);
        }
        catch
        {
            testSet.Dispose();
            throw;
        }
        return (trainSet, Keep(testSet, testSamples));
    }

    /// <summary>The set alone, with its class names (null for index labels and tensors).</summary>
    (LabeledDataset Set, IReadOnlyList<string>? ClassNames) LoadAlone()
    {
        switch (Kind)
        {
            case DataSourceKind.Images:
                return (ImageFolder.Load(Path), ImageFolder.ClassNames(Path));
            case DataSourceKind.Csv:
                var set = CsvTable.Load(Path, out var names);
                return (set, names);
            default:
                return (TensorFile.Load(Path), null);
        }
    }

    /// <summary>A test set read with the training set's classes.</summary>
    LabeledDataset LoadLike(LabeledDataset trainSet, IReadOnlyList<string>? trainClassNames)
    {
        var set = Kind switch
        {
            DataSourceKind.Images => ImageFolder.Load(Path, trainClassNames),
            DataSourceKind.Csv => CsvTable.Load(Path, trainClassNames, trainSet.ClassCount),
            _ => TensorFile.Load(Path, trainSet.ClassCount),
        };
        if (!set.ExampleShape.SequenceEqual(trainSet.ExampleShape))
        {
            var shape = set.ExampleShape;
            set.Dispose();
            throw new BasinException($"{Path}: examples have shape [{string.Join(",", shape)}], the training data " +
                $"[{string.Join(",", trainSet.ExampleShape)}]");
        }
        return set;
    }

    static (LabeledDataset Train, LabeledDataset Test) HoldOut(LabeledDataset full)
    {
        var all = Enumerable.Range(0, checked((int)full.Count)).Select(i => (long)i).ToArray();
        var testIndices = all.Where(i => i % HoldOutEvery == HoldOutEvery - 1).ToArray();
        var trainIndices = all.Where(i => i % HoldOutEvery != HoldOutEvery - 1).ToArray();
        using var trainIndex = TorchSharp.torch.tensor(trainIndices);
        using var testIndex = TorchSharp.torch.tensor(testIndices);
        return (full.Select(trainIndex), full.Select(testIndex));
    }

    static LabeledDataset Keep(LabeledDataset set, long? n)
    {
        if (n is not long k) return set;
        using (set) return set.Take(k);
    }
}
