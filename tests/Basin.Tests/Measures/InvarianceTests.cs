using Basin.Curvature;
using Basin.Flatness;
using Basin.Measures;
using Xunit;

namespace Basin.Tests.Measures;

/// <summary>
/// The invariance facts of the registry, checked on a trained ReLU MLP: a measure flagged neuron-wise invariant keeps
/// its value under random neuron-wise and layer-wise rescalings; one flagged layer-wise keeps it under layer-wise
/// rescalings and changes under neuron-wise ones; one flagged not invariant changes under layer-wise ones.
/// </summary>
public class InvarianceTests
{
    public static TheoryData<string> Names() => new(MeasureRegistry.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void FlaggedInvarianceHolds(string name)
    {
        var measure = MeasureRegistry.Get(name);
        using var data = MeasureFixtures.Data(n: 60);
        using var model = MeasureFixtures.TrainedMlp(data, "8,8", steps: 400, lr: 0.3);
        using var init = MeasureFixtures.TrainedMlp(data, "8,8", steps: 0);
        var options = new MeasureOptions { NoiseDraws = 4, CurvatureSamples = 60, MaxProbes = 20 };
        var curve = new[] { new CurvePoint(100, 0.8), new CurvePoint(200, 0.3) };
        double Value(Basin.Models.Classifier m) => measure.Compute(new MeasureContext(m, data) { Initial = init, Curve = curve, Options = options });

        double original = Value(model);
        Assert.True(double.IsFinite(original), $"{name} = {original} on the fixture");
        using var layerWise = Reparametrization.Copy(model);
        Reparametrization.Random(layerWise, seed: 5, neuronWise: false);
        using var neuronWise = Reparametrization.Copy(model);
        Reparametrization.Random(neuronWise, seed: 6, neuronWise: true);
        double layer = Value(layerWise), neuron = Value(neuronWise);
        bool Same(double v) => Math.Abs(v - original) <= 1e-6 * Math.Max(1, Math.Abs(original));
        switch (measure.Facts.Invariance)
        {
            case Invariance.NeuronWise:
                Assert.True(Same(layer) && Same(neuron), $"{name}: {original} → layer-wise {layer}, neuron-wise {neuron}");
                break;
            case Invariance.LayerWise:
                Assert.True(Same(layer), $"{name}: {original} → layer-wise {layer}");
                Assert.False(Same(neuron), $"{name} is flagged layer-wise only but kept {original} under a neuron-wise rescaling");
                break;
            default:
                Assert.False(Same(layer), $"{name} is flagged not invariant but kept {original} under a layer-wise rescaling");
                break;
        }
    }
}
