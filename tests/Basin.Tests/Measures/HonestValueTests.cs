using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.IO;
using Basin.Measures;
using Basin.Models;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.Tests.Curvature;
using Basin.Tests.Flatness;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Measures;

/// <summary>No silent wrong answers (issue 20): capped searches, NaN, units of α, float64, dead units, exact traces.</summary>
public class HonestValueTests
{
    [Fact]
    public void PacBayesFlatnessOfAChanceLevelModelIsNotReachedRatherThanVeryFlat()
    {
        // A model that always predicts class 2 on data labelled 0 or 1: its accuracy (0) cannot drop, whatever the noise.
        using var g = new torch.Generator(5);
        using var data = new LabeledDataset("toy", torch.randn([60, 6], generator: g), torch.randint(0, 2, [60], ScalarType.Int64, generator: g), 3);
        using var model = ModelSpec.Create("mlp:8:relu", data.ExampleShape, data.ClassCount, seed: 1);
        model.to(ScalarType.Float64);
        using (no_grad())
        {
            foreach (var p in model.parameters()) p.zero_();
            using var large = 1000.0.ToScalar();
            model.Head.bias![2].fill_(large);
        }
        var options = new MeasureOptions { NoiseDraws = 2 };
        var e = Assert.Throws<BasinException>(() => MeasureRegistry.Get("pac-bayes-flatness").Compute(new MeasureContext(model, data) { Options = options }));
        Assert.StartsWith("not reached:", e.Message);
        Assert.False(PacBayesFlatness.Search(model, data, magnitudeAware: false, options).Reached);
    }

    [Fact]
    public void TheHeadsHessianTraceIsExact()
    {
        using var data = MeasureFixtures.Data(n: 60);
        using var model = MeasureFixtures.TrainedMlp(data, "8,8", steps: 100);
        using var h = GeometryFixtures.BruteForceHessian(model, data, ParameterSet.Select(model, model.HeadName));
        double exact = h.trace().ToDouble();
        double measured = MeasureRegistry.Get("hessian-trace-head").Compute(new MeasureContext(model, data));
        Assert.True(GeometryFixtures.RelativeError(measured, exact) < 1e-10, $"{measured} vs {exact}");

        // The layer-trace variant of relative flatness on the head is exact too: no probes, no standard error.
        var r = RelativeFlatness.Measure(model, data, model.HeadName, FlatnessVariant.LayerWiseTrace);
        Assert.Null(r.Probes);
        Assert.Equal(0.0, r.StandardError);
    }

    [Fact]
    public void MeasuresWeightDecayIsTrainsAlpha()
    {
        using var data = GeometryFixtures.ToyData();
        using var model = GeometryFixtures.SmallMlp();
        double alpha = 0.05, m = 4, norm2 = model.Head.weight!.pow(Basin.Native.Scalars.Two).sum().ToDouble();
        double Kappa(double a) => MeasureJob.Measure(model, data, new MeasureSpec { Layer = "fc3", Measures = [GeometryMeasures.RelativeFlatness], WeightDecay = a })
            .Layers.Single().RelativeFlatness!.Value;
        // train --weight-decay α adds α/2·‖w‖² to the loss: the Hessian gains α per diagonal entry, κ_Tr gains α·m·‖W‖².
        Assert.True(GeometryFixtures.RelativeError(Kappa(alpha) - Kappa(0), alpha * m * norm2) < 1e-8);
        var reported = MeasureJob.Measure(model, data, new MeasureSpec { Layer = "fc3", Measures = [GeometryMeasures.RelativeFlatness], WeightDecay = alpha });
        Assert.Equal(alpha, reported.Layers.Single().RelativeFlatness!.WeightDecay);
    }

    [Fact]
    public void FeatureNormalizedFlatnessFoldsDeadUnitsSoRescalingThemChangesNothing()
    {
        using var data = MeasureFixtures.Data(n: 60);
        using var model = MeasureFixtures.TrainedMlp(data, "8,8", steps: 400, lr: 0.3);   // one fc2 unit is dead on these data
        var spec = new MeasureSpec { Layer = model.HeadName, Measures = [GeometryMeasures.RelativeFlatness], NormalizeFeatures = true };
        double before = MeasureJob.Measure(model, data, spec).Layers.Single().RelativeFlatness!.Value;
        double sweep = MeasureRegistry.Get("relative-flatness-normalized").Compute(new MeasureContext(model, data));
        Assert.True(GeometryFixtures.RelativeError(before, sweep) < 1e-9, $"measure {before}, sweep {sweep}");

        // Rescale the dead unit: its row and bias in the layer before the head by c, its head column by 1/c (same function).
        using var phi = model.Features(data.Inputs.to_type(ScalarType.Float64));
        using var spread = phi.amax(0) - phi.amin(0);
        int dead = Enumerable.Range(0, (int)spread.shape[0]).Single(j => spread[j].ToDouble() == 0);
        var names = model.named_parameters().Select(p => p.name).ToList();
        var previous = names[names.IndexOf(model.HeadName + ".weight") - 2];   // ..., previous.weight, previous.bias, head.weight
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            using var c = 7.0.ToScalar();
            named[previous][dead].mul_(c);
            named[previous.Replace(".weight", ".bias")][dead].mul_(c);
            model.Head.weight!.select(1, dead).div_(c);
        }
        double after = MeasureJob.Measure(model, data, spec).Layers.Single().RelativeFlatness!.Value;
        Assert.True(GeometryFixtures.RelativeError(after, before) < 1e-9, $"before {before}, after {after}");
    }

    [Fact]
    public void ARescalingThatOverflowsIsAnErrorNotUnchanged()
    {
        using var data = GeometryFixtures.ToyData();
        using var model = ModelSpec.Create("mlp:5,4:relu", [6], 3, seed: 1);   // float32
        var e = Assert.Throws<BasinException>(() => ReparametrizeJob.Compare(model, data, new ReparametrizeSpec { MaxFactor = 1e308, NeuronWise = true, Seed = 3 }));
        Assert.Contains("not finite", e.Message);
    }

    [Fact]
    public void Float64WeightsKeepEveryBitUnderFloat64()
    {
        var dir = Directory.CreateTempSubdirectory("basin-f64-").FullName;
        var path = Path.Combine(dir, "w.safetensors");
        using var data = GeometryFixtures.ToyData();
        using (var source = GeometryFixtures.SmallMlp())
        {
            using var tiny = Math.Pow(2, -40).ToScalar();   // below float32's resolution
            using (no_grad()) source.Head.weight!.add_(tiny, Basin.Native.Scalars.One);
            Weights.Save(source, path);
        }
        using var file = SafeTensors.Load(path);
        var origin = new ModelSource(path, "mlp:5,4:tanh", "toy", null, null);
        using var wide = origin.LoadModel(data, float64: true);
        Basin.Tests.Training.TensorAssert.BitIdentical(file.Tensors["fc3.weight"], wide.Head.weight!, "fc3.weight");
        using var narrow = origin.LoadModel(data);
        Assert.Equal(ScalarType.Float32, narrow.Head.weight!.dtype);
    }
}
