using Basin.Tests.Flatness;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Data;
using Basin.IO;
using Basin.Models;
using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Curvature;

/// <summary>
/// Geometry of the PyTorch-trained LeNet-5 fixture against numbers PyTorch 1.13 computed from full Hessians
/// (tests/Basin.Tests/Fixtures/lenet5_geometry_check.py; float64, the fixture's 4 inputs, labels 3,1,4,1).
/// </summary>
public class PyTorchCrossCheckTests
{
    public static readonly string Weights = Path.Combine(AppContext.BaseDirectory, "Fixtures", "lenet5_pytorch.safetensors");
    public static readonly string Io = Path.Combine(AppContext.BaseDirectory, "Fixtures", "lenet5_pytorch_io.safetensors");
    public static readonly long[] Labels = [3, 1, 4, 1];

    // Printed by lenet5_geometry_check.py.
    public const double KappaFc3 = 1.036023403589955;
    public const double TraceFc3 = 3.1095301793440613;
    public static readonly double[] Top5Fc3 = [0.52317210590703, 0.3612419781858982, 0.3531547511334991, 0.33936051467793865, 0.3265451928016796];
    public const double KappaLambdaFc3 = 0.9994847782791313;
    public const double KappaFc3NormalizedFeatures = 251.7735479775179;
    public const double KappaConv1 = 0.05428517782549443;
    public const double TraceConv1 = 0.17882350720080503;

    const double Tolerance = 1e-5;

    public static Classifier Model(ScalarType dtype)
    {
        var model = ModelSpec.Create("lenet5", [1, 28, 28], 10, seed: 0);
        Basin.IO.Weights.Load(model, Weights);
        model.to(dtype);
        model.eval();
        return model;
    }

    public static LabeledDataset Data()
    {
        using var io = SafeTensors.Load(Io);
        return new LabeledDataset("pytorch-io", io.Tensors["input"].clone(), torch.tensor(Labels), 10);
    }

    static void Near(double expected, double actual, string what) =>
        Assert.True(RelativeError(actual, expected) < Tolerance, $"{what}: Basin {actual:R}, PyTorch {expected:R}, relative error {RelativeError(actual, expected):E2}");

    [Fact]
    public void HeadMeasuresEqualPyTorchFullHessianInFloat64()
    {
        using var model = Model(ScalarType.Float64);
        using var data = Data();
        Near(KappaFc3, RelativeFlatness.Measure(model, data, "fc3", FlatnessVariant.ClosedForm).Value, "κ closed form");
        Near(KappaFc3, RelativeFlatness.Measure(model, data, "fc3", FlatnessVariant.Block).Value, "κ block");
        Near(KappaLambdaFc3, RelativeFlatness.Measure(model, data, "fc3", FlatnessVariant.NeuronWiseMaxEigenvalue, new() { EigenTolerance = 1e-10 }).Value, "κ_λ");
        Near(KappaFc3NormalizedFeatures, RelativeFlatness.Measure(model, data, "fc3", FlatnessVariant.ClosedForm, new() { NormalizeFeatures = true }).Value, "κ normalized features");

        var r = MeasureJob.Measure(model, data, new MeasureSpec { Top = 5, EigenTolerance = 1e-10 });
        var fc3 = Assert.Single(r.Layers);
        Near(KappaFc3, fc3.RelativeFlatness!.Value, "measure κ");
        Near(TraceFc3, fc3.HessianTrace!.Value, "measure trace");
        Assert.Equal("exact", fc3.HessianTrace.Method);
        for (int i = 0; i < 5; i++) Near(Top5Fc3[i], fc3.TopEigen!.Values[i], $"λ_{i + 1}");

        var summary = MeasureJob.Summarize(model, data);
        Near(KappaFc3, summary.RelativeFlatness, "summary κ");
        Near(TraceFc3, summary.HessianTrace, "summary trace");
        Near(Top5Fc3[0], summary.LambdaMax, "summary λ_max");
    }

    [Fact]
    public void Conv1MeasuresEqualPyTorchFullHessianInFloat64()
    {
        using var model = Model(ScalarType.Float64);
        using var data = Data();
        Near(KappaConv1, RelativeFlatness.Measure(model, data, "conv1", FlatnessVariant.Block).Value, "κ(conv1) block");
        using var hvp = new HessianVectorProduct(model, data, ParameterSet.Select(model, "conv1.weight"));
        Near(TraceConv1, HessianTrace.Exact(hvp), "Tr H(conv1)");
    }

    [Fact]
    public void Float32HeadMeasuresStayWithinToleranceOfPyTorch()
    {
        using var model = Model(ScalarType.Float32);
        using var data = Data();
        var summary = MeasureJob.Summarize(model, data);
        Near(KappaFc3, summary.RelativeFlatness, "float32 κ");
        Near(TraceFc3, summary.HessianTrace, "float32 trace");
        Near(KappaFc3, RelativeFlatness.Measure(model, data).Value, "float32 κ closed form");
    }
}
