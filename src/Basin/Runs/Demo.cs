namespace Basin.Runs;

/// <summary>
/// The demo: LeNet-5 and an MLP 784-512-512-10 trained on real Fashion-MNIST with the same data,
/// seed and recipe (SGD, momentum 0.9), each recorded as a run. Small enough for a few minutes on 2 cores.
/// </summary>
public static class Demo
{
    public static readonly string[] Models = ["lenet5", "mlp:512,512"];

    /// <summary>The training specs the demo runs, one per model.</summary>
    public static IReadOnlyList<TrainJobSpec> Specs(long? samples = null, long? testSamples = null, int epochs = 3, long seed = 1,
        string? dataPath = null, IReadOnlyList<string>? models = null) =>
        (models ?? Models).Select(m => new TrainJobSpec
        {
            Dataset = "fashion-mnist",
            DataPath = dataPath,
            Samples = samples,
            TestSamples = testSamples,
            Model = m,
            Optimizer = "sgd",
            LearningRate = 0.02,
            Momentum = 0.9,
            Epochs = epochs,
            BatchSize = 128,
            Seed = seed,
        }).ToList();
}
