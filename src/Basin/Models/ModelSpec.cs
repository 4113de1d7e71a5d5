using System.Globalization;
using TorchSharp;

namespace Basin.Models;

/// <summary>
/// Builds a <see cref="Classifier"/> from a short text spec. Grammar (case-insensitive):
/// <list type="bullet">
/// <item><c>lenet5</c>: LeNet-5 for inputs [C,28,28].</item>
/// <item><c>mlp</c>: an MLP with hidden widths 512,512 and ReLU.</item>
/// <item><c>mlp:W1,W2,...</c>: an MLP with the given hidden widths and ReLU, e.g. <c>mlp:512,512</c>.</item>
/// <item><c>mlp:W1,W2,...:ACT</c>: ACT one of relu, tanh, sigmoid, e.g. <c>mlp:256,128:tanh</c>.</item>
/// <item><c>resnet</c>: the small ResNet with width multiplier 1; <c>resnet:K</c> with multiplier K, e.g. <c>resnet:2</c>.</item>
/// <item><c>MODEL+bottleneck:K</c>: any of the above with a linear bottleneck of K features before the head, as in the
/// FAM paper, e.g. <c>lenet5+bottleneck:64</c>; <c>MODEL+bottleneck:K:ACT</c> (ACT = linear|relu|tanh|sigmoid) puts a
/// nonlinearity after it (see <see cref="BottleneckClassifier"/>).</item>
/// </list>
/// The MLP's input size is the product of the example shape; convolutional models take the channel count from it.
/// <see cref="Classifier.Spec"/> gives back a canonical spec that this accepts.
/// </summary>
public static class ModelSpec
{
    const int MaxWidth = 1 << 16;
    const int MaxResNetWidth = 64;
    const string BottleneckOption = "bottleneck";

    public static IReadOnlyList<string> Examples { get; } =
        ["lenet5", "mlp", "mlp:512,512", "mlp:256,128:tanh", "resnet", "resnet:2", "lenet5+bottleneck:64", "mlp:512+bottleneck:32:relu"];

    public static string Help { get; } =
        "Model specs: lenet5 (LeNet-5, inputs [C,28,28]); mlp (hidden widths 512,512, relu); " +
        "mlp:W1,W2,... (hidden widths); mlp:W1,W2,...:ACT (ACT = relu|tanh|sigmoid); " +
        "resnet (small ResNet, width 1: 16-32-64 channels); resnet:K (width multiplier K); " +
        "MODEL+bottleneck:K (a linear layer of K features before the head, as in the FAM paper); " +
        "MODEL+bottleneck:K:ACT (ACT = linear|relu|tanh|sigmoid after it). " +
        "Examples: " + string.Join(", ", Examples) + ".";

    static string ValidForms => "valid forms: lenet5, mlp, mlp:W1,W2,..., mlp:W1,W2,...:relu|tanh|sigmoid, resnet, resnet:K, " +
        "and any of these followed by +bottleneck:K or +bottleneck:K:linear|relu|tanh|sigmoid";

    /// <summary>
    /// Builds the model with torch.manual_seed(<paramref name="seed"/>) set first, so its initial weights
    /// depend only on the spec, the shapes and the seed, and equal PyTorch's for the same seed and layers.
    /// The weights are drawn from a private generator seeded the same way, so random draws on other threads
    /// cannot change them.
    /// </summary>
    /// <param name="exampleShape">The shape of one input example, without the batch dimension, e.g. [1,28,28].</param>
    public static Classifier Create(string spec, long[] exampleShape, int classCount, long seed)
    {
        var build = Parse(spec, exampleShape, classCount, out long parameters);
        CheckSize(spec, parameters);
        torch.manual_seed(seed);
        var model = build();
        DefaultInit.Reset(model, seed);
        return model;
    }

    /// <summary>The number of parameters (weights, biases, BatchNorm's scale and shift) of the model a spec names, without building
    /// it.</summary>
    public static long ParameterCount(string spec, long[] exampleShape, int classCount)
    {
        Parse(spec, exampleShape, classCount, out long parameters);
        return parameters;
    }

    static Func<Classifier> Parse(string spec, long[] exampleShape, int classCount, out long parameters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(exampleShape);
        if (classCount < 2) throw new BasinException($"model '{spec}' needs at least 2 classes, got {classCount}");
        if (exampleShape.Length == 0 || exampleShape.Any(d => d < 1))
            throw new BasinException($"model '{spec}' needs an example shape of positive sizes, got [{string.Join(",", exampleShape)}]");
        // MODEL[+bottleneck:K[:ACT]]: the model family first, then the options that modify it.
        var pieces = spec.Trim().ToLowerInvariant().Split('+');
        var parts = pieces[0].Trim().Split(':');
        long features = 0;
        Func<Classifier> build = parts[0] switch
        {
            "lenet5" => ParseLeNet5(spec, parts, exampleShape, classCount),
            "mlp" => ParseMlp(spec, parts, exampleShape, classCount),
            "resnet" => ParseResNet(spec, parts, exampleShape, classCount),
            _ => throw new BasinException($"unknown model spec '{spec}'; {ValidForms}"),
        };
        parameters = parts[0] switch
        {
            "lenet5" => LeNet5Parameters(exampleShape[0], classCount, out features),
            "mlp" => MlpParameters(parts, exampleShape, classCount, out features),
            _ => ResNetParameters(parts, exampleShape[0], classCount, out features),
        };
        if (pieces.Length > 2) throw new BasinException($"model spec '{spec}' has more than one '+' option; {ValidForms}");
        if (pieces.Length == 2)
        {
            build = ParseBottleneck(spec, pieces[1], build, out int k);
            parameters += features * k + k + (long)k * classCount
                + classCount - (features * classCount + classCount);   // the trunk's head is replaced
        }
        return build;
    }

    static Func<Classifier> ParseLeNet5(string spec, string[] parts, long[] shape, int classes)
    {
        if (parts.Length != 1) throw new BasinException($"model spec '{spec}': lenet5 takes no options; {ValidForms}");
        if (shape.Length != 3 || shape[1] != LeNet5.ImageSize || shape[2] != LeNet5.ImageSize)
            throw new BasinException($"lenet5 needs examples of shape [C,28,28], got [{string.Join(",", shape)}]; use mlp or " +
                "resnet for other shapes");
        int channels = ToChannels(spec, shape[0]);
        return () => new LeNet5(classes, channels);
    }

    static Func<Classifier> ParseMlp(string spec, string[] parts, long[] shape, int classes)
    {
        if (parts.Length > 3) throw new BasinException($"model spec '{spec}' has too many ':' parts; {ValidForms}");
        int[] widths = [512, 512];
        if (parts.Length >= 2)
        {
            var items = parts[1].Split(',');
            widths = new int[items.Length];
            for (int i = 0; i < items.Length; i++)
                if (!int.TryParse(items[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] < 1
                    || widths[i] > MaxWidth)
                    throw new BasinException($"model spec '{spec}': hidden width '{items[i]}' is not an integer from 1 to " +
                        $"{MaxWidth}; {ValidForms}");
        }
        var activation = Activation.Relu;
        if (parts.Length == 3)
            activation = parts[2].Trim() switch
            {
                "relu" => Activation.Relu,
                "tanh" => Activation.Tanh,
                "sigmoid" => Activation.Sigmoid,
                var a => throw new BasinException($"model spec '{spec}': unknown activation '{a}' (relu, tanh or sigmoid); {ValidForms}"),
            };
        long inputSize = shape.Aggregate(1L, (a, b) => checked(a * b));
        return () => new Mlp(inputSize, widths, classes, activation);
    }

    static Func<Classifier> ParseResNet(string spec, string[] parts, long[] shape, int classes)
    {
        if (parts.Length > 2) throw new BasinException($"model spec '{spec}' has too many ':' parts; {ValidForms}");
        int width = 1;
        if (parts.Length == 2 && (!int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out width) || width < 1
            || width > MaxResNetWidth))
            throw new BasinException($"model spec '{spec}': width multiplier '{parts[1]}' is not an integer from 1 to " +
                $"{MaxResNetWidth}; {ValidForms}");
        if (shape.Length != 3)
            throw new BasinException($"resnet needs examples of shape [C,H,W], got [{string.Join(",", shape)}]");
        int channels = ToChannels(spec, shape[0]);
        return () => new ResNet(classes, width, channels);
    }

    /// <summary>
    /// The most parameters a model may have: training keeps about five float32 copies of them (weights, gradients,
    /// optimizer state, a checkpoint's buffer), so one parameter in 20 bytes of the memory available to this process.
    /// The environment variable BASIN_MAX_PARAMETERS overrides it.
    /// </summary>
    public static long MaxParameters
    {
        get
        {
            if (long.TryParse(Environment.GetEnvironmentVariable("BASIN_MAX_PARAMETERS"), NumberStyles.None, CultureInfo.InvariantCulture,
                out var set) && set > 0) return set;
            long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            return Math.Max(available, 1L << 30) / 20;
        }
    }

    static void CheckSize(string spec, long parameters)
    {
        long max = MaxParameters;
        if (parameters > max)
            throw new BasinException($"model '{spec}' has {parameters:N0} parameters ({parameters * 4.0 / (1 << 30):F1} GiB in " +
                "float32), more than the " +
                $"{max:N0} this machine's memory allows for training (set BASIN_MAX_PARAMETERS to override)");
    }

    static long LeNet5Parameters(long channels, int classes, out long features)
    {
        features = LeNet5.FeatureCount;
        return channels * 25 * 6 + 6 + 6 * 25 * 16 + 16 + 16 * 5 * 5 * 120 + 120 + 120 * 84 + 84 + 84L * classes + classes;
    }

    static long MlpParameters(string[] parts, long[] shape, int classes, out long features)
    {
        long[] widths = parts.Length >= 2
            ? parts[1].Split(',').Select(w => long.Parse(w.Trim(), CultureInfo.InvariantCulture)).ToArray() : [512, 512];
        long inputs = shape.Aggregate(1L, (a, b) => a * b), total = 0;
        foreach (var w in widths) { total += inputs * w + w; inputs = w; }
        features = inputs;
        return total + inputs * classes + classes;
    }

    static long ResNetParameters(string[] parts, long channels, int classes, out long features)
    {
        long k = parts.Length == 2 ? long.Parse(parts[1].Trim(), CultureInfo.InvariantCulture) : 1;
        long c1 = 16 * k, c2 = 32 * k, c3 = 64 * k;
        static long Block(long cin, long cout) => 9 * cin * cout + 9 * cout * cout + 4 * cout + (cin == cout ? 0 : cin * cout + 2 * cout);
        features = c3;
        return 9 * channels * c1 + 2 * c1 + Block(c1, c1) + Block(c1, c2) + Block(c2, c3) + c3 * classes + classes;
    }

    static Func<Classifier> ParseBottleneck(string spec, string option, Func<Classifier> trunk, out int bottleneckWidth)
    {
        var parts = option.Trim().Split(':');
        if (parts[0].Trim() != BottleneckOption)
            throw new BasinException($"model spec '{spec}': unknown option '+{option.Trim()}' (the option is +bottleneck:K); {ValidForms}");
        if (parts.Length < 2 || parts.Length > 3)
            throw new BasinException($"model spec '{spec}': write the bottleneck as +bottleneck:K or +bottleneck:K:ACT, e.g. " +
                $"+bottleneck:64; {ValidForms}");
        if (!int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int width) || width < 1 || width > MaxWidth)
            throw new BasinException($"model spec '{spec}': bottleneck width '{parts[1].Trim()}' is not an integer from 1 to " +
                $"{MaxWidth}; {ValidForms}");
        Activation? activation = parts.Length < 3 ? null : parts[2].Trim() switch
        {
            "linear" => null,
            "relu" => Activation.Relu,
            "tanh" => Activation.Tanh,
            "sigmoid" => Activation.Sigmoid,
            var a => throw new BasinException($"model spec '{spec}': unknown bottleneck activation '{a}' (linear, relu, tanh or " +
                $"sigmoid); {ValidForms}"),
        };
        bottleneckWidth = width;
        return () => new BottleneckClassifier(trunk(), width, activation);
    }

    /// <summary>The canonical spec of <paramref name="trunkSpec"/> with a bottleneck: "lenet5+bottleneck:64",
    /// "mlp:512:relu+bottleneck:32:relu".</summary>
    public static string WithBottleneck(string trunkSpec, int width, Activation? activation) =>
        $"{trunkSpec}+{BottleneckOption}:{width.ToString(CultureInfo.InvariantCulture)}" +
        (activation is { } a ? ":" + a.ToString().ToLowerInvariant() : "");

    static int ToChannels(string spec, long channels) =>
        channels <= 64 ? (int)channels : throw new BasinException($"model '{spec}': {channels} input channels is implausible (at most 64)");
}
