using Basin.Curvature;
using Basin.Flatness;
using Basin.Landscape;
using Basin.Models;
using Basin.Training;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Landscape;

public class SliceTests
{
    [Fact]
    public void SliceAtZeroEqualsTheModelsLossExactly()
    {
        using var scope = torch.NewDisposeScope();
        using var model = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 3);
        using var g = new torch.Generator(9);
        using var data = new Basin.Data.LabeledDataset("img", torch.rand([50, 1, 28, 28], generator: g), torch.randint(0, 10, [50], ScalarType.Int64, generator: g), 10);
        var expected = Evaluation.Evaluate(model, data, batchSize: 20);
        var d1 = Directions.Random(model, 1);
        var d2 = Directions.Random(model, 2);
        using var surface = new LossSurface(model, data, chunkSize: 20);
        var line = Slices.Line(surface, d1, [-1, 0, 1]);
        Assert.Equal(expected.Loss, line.Loss[1]);
        Assert.Equal(expected.Accuracy, line.Accuracy[1]);
        Assert.NotEqual(expected.Loss, line.Loss[0]);
        var plane = Slices.Plane(surface, d1, d2, [-0.5, 0], [0, 0.5]);
        Assert.Equal(expected.Loss, plane.Loss[1][0]);
        // The model's own weights are back after the slice.
        Assert.Equal(expected.Loss, Evaluation.Evaluate(model, data, batchSize: 20).Loss);
    }

    [Fact]
    public void SliceAlongACommonShiftOfTheOutputBiasesIsFlat()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp("relu");
        using var data = ToyData();
        var d = model.named_parameters().Select(np => np.name == "fc3.bias" ? torch.ones_like(np.parameter) : torch.zeros_like(np.parameter)).ToArray();
        using var surface = new LossSurface(model, data);
        var line = Slices.Line(surface, d, Slices.Grid(-5, 5, 11));
        double l0 = line.Loss[5];
        Assert.All(line.Loss, l => Assert.True(Math.Abs(l - l0) < 1e-12, $"{l} vs {l0}"));
        // A random direction is not flat (the test can fail).
        var r = Slices.Line(surface, Directions.Random(model, 1), Slices.Grid(-5, 5, 11));
        Assert.True(r.Loss.Max() - r.Loss.Min() > 1e-2);
    }

    static double[] SliceOf(Classifier model, Basin.Data.LabeledDataset data, DirectionNorm norm, double[] alphas)
    {
        using var scope = torch.NewDisposeScope();
        using var surface = new LossSurface(model, data);
        return Slices.Line(surface, Directions.Random(model, seed: 123, norm: norm), alphas).Loss.ToArray();
    }

    [Fact]
    public void FilterNormalizationMakesTheSliceInvariantToLayerWiseRescalingButNotToNeuronWise()
    {
        using var model = SmallMlp("relu");
        using var data = ToyData();
        using var layerWise = Reparametrization.Copy(model);
        Reparametrization.ScaleLayer(layerWise, "fc2", 3);
        using var neuronWise = Reparametrization.Copy(model);
        Reparametrization.ScaleNeurons(neuronWise, "fc2", [0.2, 5, 1.5, 0.5, 3]);
        double[] alphas = [-0.5, 0.25, 0.75];
        var original = SliceOf(model, data, DirectionNorm.Filter, alphas);
        var scaled = SliceOf(layerWise, data, DirectionNorm.Filter, alphas);
        for (int i = 0; i < alphas.Length; i++) Assert.True(Math.Abs(original[i] - scaled[i]) < 1e-10, $"α={alphas[i]}: {original[i]} vs {scaled[i]}");
        // Without normalization the same Gaussian draw moves the two copies differently.
        var plain = SliceOf(model, data, DirectionNorm.None, alphas);
        var plainScaled = SliceOf(layerWise, data, DirectionNorm.None, alphas);
        Assert.True(alphas.Select((_, i) => Math.Abs(plain[i] - plainScaled[i])).Max() > 1e-3);
        // Neuron-wise rescaling preserves the function but not the filter-normalized slice (a known limit).
        var neuron = SliceOf(neuronWise, data, DirectionNorm.Filter, alphas);
        Assert.True(alphas.Select((_, i) => Math.Abs(original[i] - neuron[i])).Max() > 1e-3);
    }

    [Fact]
    public void TwoDimensionalGridEqualsPointByPointEvaluation()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp("tanh");
        using var data = ToyData();
        var d1 = Directions.Random(model, 1);
        var d2 = Directions.Random(model, 2);
        var alphas = Slices.Grid(-1, 1, 3);
        var betas = Slices.Grid(-0.5, 1, 4);
        Slice2D plane;
        using (var surface = new LossSurface(model, data, chunkSize: 7))
            plane = Slices.Plane(surface, d1, d2, alphas, betas);
        var theta = model.parameters().ToArray();
        for (int i = 0; i < alphas.Length; i++)
            for (int j = 0; j < betas.Length; j++)
            {
                using var copy = Reparametrization.Copy(model);
                using (torch.no_grad())
                {
                    var ps = copy.parameters().ToArray();
                    for (int p = 0; p < ps.Length; p++) ps[p].copy_(theta[p] + torch.tensor(alphas[i]) * d1[p] + torch.tensor(betas[j]) * d2[p]);
                }
                var logits = copy.forward(data.Inputs.to_type(ScalarType.Float64));
                double loss = nn.functional.cross_entropy(logits, data.Labels).ToDouble();
                double accuracy = logits.argmax(1).eq(data.Labels).to_type(ScalarType.Float64).mean().ToDouble();
                Assert.True(Math.Abs(plane.Loss[i][j] - loss) < 1e-12, $"({alphas[i]}, {betas[j]}): {plane.Loss[i][j]} vs {loss}");
                Assert.Equal(accuracy, plane.Accuracy[i][j], 12);
            }
    }

    [Fact]
    public void NanLossesAreRecordedNotThrown()
    {
        using var scope = torch.NewDisposeScope();
        using var model = SmallMlp("relu");
        using var data = ToyData();
        var d = Directions.Random(model, 1).Select(t => t * torch.tensor(1e300)).ToArray();
        using var surface = new LossSurface(model, data);
        var line = Slices.Line(surface, d, [0, 1e10, 1]);
        Assert.False(double.IsNaN(line.Loss[0]));
        Assert.True(line.Loss.Any(double.IsNaN), string.Join(", ", line.Loss));
        Assert.True(double.IsNaN(LossBarrier.Of([0, 0.5, 1], [1, double.NaN, 1]).Max));
    }

    [Fact]
    public void GridChecksItsRange()
    {
        Assert.Equal([-1, -0.5, 0, 0.5, 1], Slices.Grid(-1, 1, 5));
        Assert.Contains("below its maximum", Assert.Throws<BasinException>(() => Slices.Grid(1, 1, 5)).Message);
        Assert.Contains("below its maximum", Assert.Throws<BasinException>(() => Slices.Grid(2, 1, 5)).Message);
        Assert.Contains("at least 2 steps", Assert.Throws<BasinException>(() => Slices.Grid(-1, 1, 0)).Message);
    }
}
