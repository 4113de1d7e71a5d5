using Basin.Data;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

/// <summary>A 2-layer MLP for trainer tests: fc1 → ReLU → dropout → fc2 (the head).</summary>
internal sealed class TinyMlp : Classifier
{
    readonly Linear fc1, fc2;
    readonly Dropout drop;
    readonly int _classes;

    public TinyMlp(int inputs = 20, int hidden = 16, int classes = 3, double dropout = 0.2, long seed = 1) : base("tiny_mlp")
    {
        _classes = classes;
        // Construct under a private seed so the model's weights do not depend on the global generator.
        using (var _ = new RandomScope(seed))
        {
            fc1 = nn.Linear(inputs, hidden);
            fc2 = nn.Linear(hidden, classes);
        }
        drop = nn.Dropout(dropout);
        RegisterComponents();
        Spec = $"tiny-mlp:{inputs}-{hidden}-{classes}";
    }

    public override string Spec { get; }
    public override int ClassCount => _classes;
    public override string HeadName => "fc2";
    public override Linear Head => fc2;

    /// <summary>When set, Features returns NaN from this many calls on (in training mode).</summary>
    public int? PoisonAfterCalls { get; set; }
    int _calls;

    public override Tensor Features(Tensor input)
    {
        var h = drop.forward(nn.functional.relu(fc1.forward(input)));
        if (training && PoisonAfterCalls is { } k && ++_calls > k) h = h * double.NaN;
        return h;
    }

    /// <summary>Seeds the global generator for the model's construction and puts its state back afterwards.</summary>
    sealed class RandomScope : IDisposable
    {
        readonly Tensor _saved = get_rng_state();
        public RandomScope(long seed) => manual_seed(seed);
        public void Dispose()
        {
            set_rng_state(_saved);
            _saved.Dispose();
        }
    }
}

internal static class TinyData
{
    /// <summary>Gaussian inputs with labels from a fixed random linear rule, generated with a private generator.</summary>
    public static LabeledDataset Make(int count, long seed, int inputs = 20, int classes = 3)
    {
        using var g = new Generator((ulong)seed);
        var x = randn(new long[] { count, inputs }, generator: g);
        using var w = randn(new long[] { inputs, classes }, generator: g);
        var y = x.mm(w).argmax(1);
        return new LabeledDataset($"tiny{seed}", x, y, classes);
    }
}

/// <summary>An IProgress that calls back synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class Callback<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
