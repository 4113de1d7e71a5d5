using Basin.Flatness;
using Basin.Measures;
using Basin.Tests.Measures;
using TorchSharp;
using Xunit;

namespace Basin.Tests.Pins;

/// <summary>
/// Constant-feature folding (a dead fc2 unit moves into the head's bias), recorded from the measures' own fold before
/// the feature statistics were shared; the shared fold gives the same head bit for bit.
/// </summary>
public sealed class FeatureStatisticsPinTests
{
    const double BiasSum = 0.7130960673093814, WeightSum = 0.5281286505050942;

    static (double Bias, double Weight) FoldedHead(Action<Basin.Models.Classifier, Basin.Data.LabeledDataset> fold)
    {
        using var data = MeasureFixtures.Data(n: 60);
        using var model = MeasureFixtures.TrainedMlp(data, "8,8", steps: 400, lr: 0.3);   // one dead fc2 unit
        fold(model, data);
        return (model.Head.bias!.sum().ToDouble(), model.Head.weight!.sum().ToDouble());
    }

    [Fact]
    public void The_shared_fold_gives_the_same_head()
    {
        var (bias, weight) = FoldedHead((m, d) => FeatureStatistics.FoldConstantHeadFeatures(m, d, 16));
        PinAssert.Exact(BiasSum, bias);
        PinAssert.Exact(WeightSum, weight);
    }
}
