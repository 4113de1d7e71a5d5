using System.Globalization;
using System.CommandLine;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin;
using Basin.Training.Catalog;

namespace Basin.Cli.Commands;

/// <summary>The options that define a training run (shared by train and demo), mapped onto <see cref="TrainJobSpec"/>.</summary>
public sealed class TrainOptions
{
    static readonly TrainJobSpec D = new();

    /// <summary>The flag of each core setting the library names (a method's settings are in the method catalog).</summary>
    public static IReadOnlyDictionary<string, string> Flags { get; } = new Dictionary<string, string>
    {
        ["learningRate"] = "--lr", ["momentum"] = "--momentum", ["nesterov"] = "--nesterov", ["weightDecay"] = "--weight-decay",
        ["schedule"] = "--schedule", ["stepGamma"] = "--gamma", ["stepEpochs"] = "--step-epochs", ["warmupSteps"] = "--warmup",
        ["optimizer"] = "--optimizer", ["coherenceEvery"] = "--coherence-every", ["stopAtTrainLoss"] = "--stop-at-loss",
    };

    public Option<string> Dataset { get; } = new("--dataset")
    {
        Description = "Data set: fashion-mnist, mnist, a toy 2-D set (moons, spirals, 8gaussians, 25gaussians, swissroll), "
            + "or your own: images:FOLDER, csv:FILE, tensors:FILE (or --data-dir, --csv, --tensors)",
        DefaultValueFactory = _ => D.Dataset,
    };
    public Option<string?> DataDir { get; } = new("--data-dir") { Description = "Train on a folder of images with one subfolder per " +
        "class (PNG, JPEG, ...)" };
    public Option<string?> Csv { get; } = new("--csv") { Description = "Train on a CSV file: a header row, a 'label' column, every " +
        "other column a feature" };
    public Option<string?> Tensors { get; } = new("--tensors") { Description = "Train on a safetensors file with 'input' " +
        "[N,...] and 'labels' [N]" };
    public Option<string?> TestData { get; } = new("--test-data")
    {
        Description = $"Test set of your own data, of the same kind (default: every {Basin.Data.DataSource.HoldOutEvery}th " +
            "example is held out; "
            + "an image folder with train/ and test/ uses those)",
    };
    public Option<string?> Data { get; } = new("--data") { Description = "Folder with the IDX files (default: $BASIN_DATA, " +
        "/usr/share/datasets/NAME, ~/.cache/basin/NAME)" };
    public Option<long?> Samples { get; } = new("--samples") { Description = "Train on the first N training examples in file " +
        "order (default: all)" };
    public Option<long?> TestSamples { get; } = new("--test-samples") { Description = "Evaluate on the first N test " +
        "examples (default: all)" };
    public Option<double> LabelNoise { get; } = new("--label-noise") { Description = "Fraction of training examples given a different " +
        "random label (0 to 1)", DefaultValueFactory = _ => 0 };
    public Option<string> Model { get; } = new("--model") { Description = "Model: lenet5, mlp, mlp:512,512, " +
        "mlp:256,128:tanh, resnet, resnet:2", DefaultValueFactory = _ => D.Model };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "Update rule: sgd or adam",
        DefaultValueFactory = _ => D.Optimizer };
    public Option<double> Lr { get; } = new("--lr") { Description = "Learning rate", DefaultValueFactory = _ => D.LearningRate };
    public Option<double> Momentum { get; } = new("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => D.Momentum };
    public Option<bool> Nesterov { get; } = new("--nesterov") { Description = "Use Nesterov momentum" };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay α: adds α/2·‖w‖² to the loss",
        DefaultValueFactory = _ => 0 };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "Learning-rate schedule: constant, step or cosine",
        DefaultValueFactory = _ => D.Schedule };
    public Option<int> StepEpochs { get; } = new("--step-epochs") { Description = "Step schedule: decay every this many epochs",
        DefaultValueFactory = _ => D.StepEpochs };
    public Option<double> Gamma { get; } = new("--gamma") { Description = "Step schedule: decay factor",
        DefaultValueFactory = _ => D.StepGamma };
    public Option<int> Warmup { get; } = new("--warmup") { Description = "Linear learning-rate warm-up over this many steps",
        DefaultValueFactory = _ => 0 };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Number of epochs", DefaultValueFactory = _ => D.Epochs };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => D.BatchSize };
    public Option<double?> StopAtLoss { get; } = new("--stop-at-loss") { Description = "Stop at the first epoch whose training " +
        "loss is at or below this" };
    public Option<long> Seed { get; } = new("--seed") { Description = "Seed for initialization, shuffling and label noise",
        DefaultValueFactory = _ => D.Seed };
    public Option<int> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "Also checkpoint every N batches " +
        "(default: at each epoch end)", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "cpu or cuda[:n] (this build has CPU libtorch only)",
        DefaultValueFactory = _ => D.Device };

    public Option<string> Method { get; } = new("--method")
    {
        Description = $"Training method: {string.Join(", ", MethodCatalog.Names)}, or several joined by + (e.g. sam+fam; docs/methods.md)",
        DefaultValueFactory = _ => D.Method,
    };
    /// <summary>One option per method setting of the catalog (--rho, --fam-lambda, ...), help and defaults from there.</summary>
    public IReadOnlyList<(string Key, Option Option)> MethodSettings { get; } = MethodCatalog.Settings.Select(kv => (kv.Key,
        SettingOption(kv.Value))).ToList();
    public Option<int> CoherenceEvery { get; } = new("--coherence-every") { Description = "Log the batch's m-coherence every N steps to " +
        "RUN/coherence.csv (0: never)", DefaultValueFactory = _ => 0 };

    public IEnumerable<Option> All => [Dataset, DataDir, Csv, Tensors, TestData, Data, Samples, TestSamples, LabelNoise, Model, Optimizer,
        Lr, Momentum, Nesterov, WeightDecay, Schedule, StepEpochs, Gamma, Warmup, Epochs, BatchSize, StopAtLoss, Seed, CheckpointEvery,
        Device, Method, .. MethodSettings.Select(s => s.Option), CoherenceEvery];

    public TrainJobSpec Read(ParseResult p)
    {
        var spec = ReadCore(p);
        foreach (var (key, option) in MethodSettings)
            if (p.GetResult(option) is { Implicit: false } given && given.GetValueOrDefault<object?>() is { } value)
                spec = spec.With(key, value);
        return spec;
    }

    /// <summary>The data set: --dataset, or the user's own data from --data-dir, --csv or --tensors (at most one).</summary>
    string ReadDataset(ParseResult p)
    {
        var own = new (Option<string?> Option, Basin.Data.DataSourceKind Kind)[] { (DataDir, Basin.Data.DataSourceKind.Images),
            (Csv, Basin.Data.DataSourceKind.Csv), (Tensors, Basin.Data.DataSourceKind.Tensors) }
            .Where(o => p.GetValue(o.Option) is not null).ToList();
        bool datasetGiven = p.GetResult(Dataset) is { Implicit: false };
        if (own.Count + (datasetGiven ? 1 : 0) > 1)
            throw new OptionException("dataset", "give one of --dataset, --data-dir, --csv and --tensors");
        if (own.Count == 0)
        {
            var name = p.GetValue(Dataset)!;
            return Basin.Data.DataSource.TryParse(name, out var source) ? source.Name : name;
        }
        return new Basin.Data.DataSource(own[0].Kind, p.GetValue(own[0].Option)!).Name;
    }

    string? ReadTestData(ParseResult p, string dataset)
    {
        if (p.GetValue(TestData) is not { } test) return null;
        if (!Basin.Data.DataSource.TryParse(dataset, out var train))
            throw new OptionException("testData", "--test-data goes with your own data (--data-dir, --csv or --tensors)");
        return (train with { Path = test }).Name;
    }

    TrainJobSpec ReadCore(ParseResult p) => new()
    {
        Dataset = ReadDataset(p),
        TestData = ReadTestData(p, ReadDataset(p)),
        DataPath = p.GetValue(Data),
        Samples = p.GetValue(Samples),
        TestSamples = p.GetValue(TestSamples),
        LabelNoise = p.GetValue(LabelNoise),
        Model = p.GetValue(Model)!,
        Optimizer = p.GetValue(Optimizer)!,
        LearningRate = p.GetValue(Lr),
        Momentum = p.GetValue(Momentum),
        Nesterov = p.GetValue(Nesterov),
        WeightDecay = p.GetValue(WeightDecay),
        Schedule = p.GetValue(Schedule)!,
        StepEpochs = p.GetValue(StepEpochs),
        StepGamma = p.GetValue(Gamma),
        WarmupSteps = p.GetValue(Warmup),
        Epochs = p.GetValue(Epochs),
        BatchSize = p.GetValue(BatchSize),
        StopAtTrainLoss = p.GetValue(StopAtLoss),
        Seed = p.GetValue(Seed),
        CheckpointEveryBatches = p.GetValue(CheckpointEvery),
        Device = p.GetValue(Device)!,
        Method = p.GetValue(Method)!,
        CoherenceEvery = p.GetValue(CoherenceEvery),
    };

    /// <summary>A CLI option for a method setting: typed, no default of its own (the catalog's applies), help with the defaults.</summary>
    static Option SettingOption(IReadOnlyList<(MethodEntry Entry, MethodSetting Setting)> declared)
    {
        var setting = declared[0].Setting;
        var defaults = declared.Select(d => d.Setting.DefaultText).Distinct().Count() == 1
            ? $"default {setting.DefaultText}"
            : "default " + string.Join(", ", declared.Select(d => $"{d.Setting.DefaultText} for {d.Entry.Name}"));
        var description = $"{setting.Help} ({defaults})";
        Option option = setting.ValueType switch
        {
            var t when t == typeof(double) => new Option<double?>(setting.Flag)
            {
                Description = description,
                CustomParser = r => Number(r, "a number", (string x, out double v) => double.TryParse(x, NumberStyles.Float,
                    CultureInfo.InvariantCulture, out v)),
            },
            var t when t == typeof(int) => new Option<int?>(setting.Flag)
            {
                Description = description,
                CustomParser = r => Number(r, "an integer", (string x, out int v) => int.TryParse(x, NumberStyles.Integer,
                    CultureInfo.InvariantCulture, out v)),
            },
            var t when t == typeof(long) => new Option<long?>(setting.Flag)
            {
                Description = description,
                CustomParser = r => Number(r, "an integer", (string x, out long v) => long.TryParse(x, NumberStyles.Integer,
                    CultureInfo.InvariantCulture, out v)),
            },
            var t when t == typeof(bool) => new Option<bool>(setting.Flag) { Description = description },
            _ => new Option<string?>(setting.Flag) { Description = description },
        };
        if (setting.Choices is { } choices && option is Option<string?> text) text.AcceptOnlyFromAmong([.. choices]);
        return option;
    }

    delegate bool TryParse<T>(string text, out T value);

    /// <summary>A number option's value, or a parse error that names the option and what it expects (no .NET type names).</summary>
    static T? Number<T>(System.CommandLine.Parsing.ArgumentResult result, string what, TryParse<T> parse) where T : struct
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (parse(text, out var value)) return value;
        result.AddError($"{(result.Parent as System.CommandLine.Parsing.OptionResult)?.Option.Name ?? "option"} must be " +
            $"{what}, got '{text}'");
        return null;
    }
}
