using Basin.Curvature;
using Basin.Data;
using Basin.Flatness;
using Basin.Gan;
using Basin.IO;
using Basin.Landscape;
using Basin.Measures;
using Basin.Models;
using Basin.Tests.Measures;
using Basin.Training;
using Basin.Training.Methods;
using Basin.Training.PerExample;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Pins;

/// <summary>
/// Chunked loops over a data set, per-example gradients, m-coherence and Monte-Carlo estimates, recorded bit for bit
/// from the code before they were shared (chunks of 16 of 60 examples, so the last one is short).
/// </summary>
public sealed class DataSetLoopPinTests
{
    const int Chunk = 16;   // 60 examples: chunks of 16, 16, 16 and 12

    static (LabeledDataset Data, Classifier Model) Fixture() { var d = MeasureFixtures.Data(); return (d, MeasureFixtures.TrainedMlp(d)); }

    static Classifier Float32Mlp(LabeledDataset data) => ModelSpec.Create("mlp:8:relu", data.ExampleShape, data.ClassCount, seed: 5);

    [Fact]
    public void Evaluation_and_loss_surface_at_the_origin()
    {
        using var data = MeasureFixtures.Data();
        using var model = Float32Mlp(data);
        var r = Evaluation.Evaluate(model, data, Chunk);
        PinAssert.Exact(1.2259304364522299, r.Loss);
        PinAssert.Exact(0.15, r.Accuracy);
        using var surface = new LossSurface(model, data, Chunk);
        var p = surface.AtWeights(surface.Origin);
        PinAssert.Exact(r.Loss, p.Loss);
        PinAssert.Exact(r.Accuracy, p.Accuracy);
    }

    [Fact]
    public void Margin_accuracy_drop_fisher_rao_and_sharpness()
    {
        var (data, model) = Fixture();
        using (data) using (model)
        {
            PinAssert.Exact(3.147458560131284, Margin.Percentile(model, data, 0.1, Chunk));
            PinAssert.Exact(0.15555555555555556,
                PacBayesFlatness.AccuracyDrop(model, data, 0.3, magnitudeAware: true, draws: 3, seed: 2, chunkSize: Chunk));
            PinAssert.Exact(0.0654336208997058, FisherRao.Compute(model, data, Chunk));
            PinAssert.Exact(0.002344000978938462, WorstCaseSharpness.LossIncrease(model, data, 0.05, steps: 3, seed: 1, chunkSize: Chunk));
        }
    }

    [Fact]
    public void Flatness_curvature_and_feature_robustness()
    {
        var (data, model) = Fixture();
        using (data) using (model)
        {
            var options = new FlatnessOptions { ChunkSize = Chunk, NormalizeFeatures = true, Seed = 4, RelativeStandardError = 0.05 };
            PinAssert.Exact(9.810444310045307, RelativeFlatness.Measure(model, data, null, FlatnessVariant.ClosedForm, options).Value);
            var estimate = RelativeFlatness.Measure(model, data, null, FlatnessVariant.Estimator, options);
            PinAssert.Exact(9.490188914102582, estimate.Value);
            PinAssert.Exact(0.4738132785909954, estimate.StandardError!.Value);
            var layerWise = RelativeFlatness.Measure(model, data, null, FlatnessVariant.LayerWiseTrace,
                options with { NormalizeFeatures = false });
            PinAssert.Exact(0.7403563540877658, layerWise.Value);
            using var head = HeadCurvature.Create(model, data, Chunk);
            PinAssert.Exact(1.2873480630841714, HessianTrace.Exact(head));
            using var hvp = new HessianVectorProduct(model, data, ParameterSet.All(model), new CurvatureOptions { ChunkSize = Chunk });
            var trace = HessianTrace.Hutchinson(hvp, 0.05, 10, 200, seed: 3);
            PinAssert.Exact(8.07964297775139, trace.Mean);
            PinAssert.Exact(0.40383798656937053, trace.StandardError);
            var robust = FeatureRobustness.Measure(model, data, [0.1, 0.5], null, samples: 3, seed: 6,
                options: new FlatnessOptions { ChunkSize = Chunk });
            PinAssert.Exact(0.005681310978777876, robust.Points[0].Empirical);
            PinAssert.Exact(0.10135433971806988, robust.Points[1].StandardError);
        }
    }

    [Fact]
    public void Gradient_statistics_and_m_coherence()
    {
        var (data, model) = Fixture();
        using (data) using (model)
        {
            var s = GradientStatistics.Compute(model, data, 7);
            PinAssert.Exact(0.48344036496807047, s.Noise);
            PinAssert.Exact(1.12685960247997, s.MCoherence);
        }
        using var data32 = MeasureFixtures.Data();
        using var model32 = Float32Mlp(data32);
        var s32 = GradientStatistics.Compute(model32, data32, 9);
        PinAssert.Exact(3.8158600856354226, s32.Noise);
        PinAssert.Exact(1.4317758468269473, s32.MCoherence);
        PinAssert.Exact(1.1367479809207965, MCoherence.Measure(model32, data32, 9));
        using var x = data32.Inputs.narrow(0, 0, 5);
        using var y = data32.Labels.narrow(0, 0, 5);
        var exact = PerExampleGradients.Exact(model32, x, y);
        using var two = 2.ToScalar();
        PinAssert.Exact(26.41790982622793, exact.Sum(g => g.to_type(ScalarType.Float64).pow(two).sum().ToDouble()));
        PinAssert.Exact(1.5101397691453724, MCoherence.Of(exact));
        foreach (var g in exact) g.Dispose();
    }

    [Fact]
    public void Ensemble_curve_training_and_gan_batches()
    {
        using var data = MeasureFixtures.Data();
        using var model = Float32Mlp(data);
        var dir = Directory.CreateTempSubdirectory("basin-pins").FullName;
        try
        {
            var files = new List<string>();
            for (int k = 0; k < 2; k++)
            {
                using var member = ModelSpec.Create("mlp:8:relu", data.ExampleShape, data.ClassCount, seed: 20 + k);
                var file = Path.Combine(dir, $"m{k}.safetensors");
                Weights.Save(member, file);
                files.Add(file);
            }
            var ensemble = PosteriorPredictive.Evaluate(model, files, data, Chunk);
            PinAssert.Exact(1.1518716459169573, ensemble.Ensemble.LogLoss);
            PinAssert.Exact(1.1759776814056984, ensemble.Members[1].LogLoss);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        using var a = ModelSpec.Create("mlp:8:relu", data.ExampleShape, data.ClassCount, seed: 31);
        using var b = ModelSpec.Create("mlp:8:relu", data.ExampleShape, data.ClassCount, seed: 32);
        using var curve = new Curve(CurveKind.Bezier, a.parameters().ToArray(), b.parameters().ToArray());
        using var host = ModelSpec.Create("mlp:8:relu", data.ExampleShape, data.ClassCount, seed: 33);
        var epochs = CurveTraining.Train(curve, host, data, new CurveTrainingOptions { Epochs = 2, BatchSize = Chunk, Seed = 1 });
        PinAssert.Exact(1.085087388753891, epochs[^1].MeanLoss);

        using var w = torch.linspace(-1, 1, 6).reshape(6, 1);
        Func<Tensor, Tensor> critic = t => t.mm(w);
        PinAssert.Exact(0.3999638703962167, RealismWeight.Calibrate(critic, data.Inputs, batchSize: 7).Reference);
        using var factor = 1.5.ToScalar();
        using var other = data.Inputs.mul(factor);
        Func<Tensor, Tensor> features = t => t.narrow(1, 0, 3);
        PinAssert.Exact(0.8590533926313029, FrechetDistance.Compute(data.Inputs, other, features, batchSize: 7));
    }
}
