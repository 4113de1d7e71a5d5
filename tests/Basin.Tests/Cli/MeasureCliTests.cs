using System.Text.Json;
using Basin.Data;
using Basin.Curvature;
using Basin.Flatness;
using Basin.IO;
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

namespace Basin.Tests.Cli;

/// <summary>`basin geometry` and `basin reparametrize` as subprocesses: JSON equal to the library's values, one-line errors.</summary>
public class MeasureCliTests
{
    /// <summary>A LeNet-5 run trained for one epoch on the generated data; (work folder, data folder, run id, weights file).</summary>
    static (string Dir, string Data, string RunId, string Weights) TrainedRun()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, "train", "--data", data, "--model", "lenet5", "--epochs", "1", "--batch-size", "32", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return (dir, data, doc.RootElement.GetProperty("runId").GetString()!, doc.RootElement.GetProperty("weightsPath").GetString()!);
    }

    static double Relative(double a, double b) => Math.Abs(a - b) / Math.Abs(b);

    [Fact]
    public void MeasureOfARunPrintsTheLibrarysValuesAndReparametrizeKeepsKappa()
    {
        var (dir, data, id, weights) = TrainedRun();
        var r = CliRunner.Run(dir, null, "geometry", "--run", id, "--measures", "relative-flatness,hessian-trace-weight,top-eigenvalues-weight", "--top", "3", "--samples", "64", "--json", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("lenet5", root.GetProperty("model").GetString());
        Assert.Equal("train", root.GetProperty("split").GetString());
        Assert.Equal(64, root.GetProperty("samples").GetInt64());
        var layer = Assert.Single(root.GetProperty("layers").EnumerateArray());
        Assert.Equal("fc3", layer.GetProperty("layer").GetString());
        Assert.Equal(840, layer.GetProperty("parameters").GetInt64());
        var kappa = layer.GetProperty("relativeFlatness");
        Assert.Equal("closed-form", kappa.GetProperty("variant").GetString());
        var trace = layer.GetProperty("hessianTrace");
        var top = layer.GetProperty("topEigen").GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();

        // The library on the same weights and data.
        using var set = ImageDatasets.Load("fashion-mnist", Split.Train, data, 64);
        using var model = ModelSpec.Create("lenet5", set.ExampleShape, set.ClassCount, seed: 0);
        Weights.Load(model, weights);
        var lib = MeasureJob.Measure(model, set, new MeasureSpec { Top = 3 }).Layers[0];
        Assert.True(Relative(kappa.GetProperty("value").GetDouble(), lib.RelativeFlatness!.Value) < 1e-6);
        Assert.True(Relative(trace.GetProperty("value").GetDouble(), lib.HessianTrace!.Value) < 1e-6);
        Assert.Equal("exact", trace.GetProperty("method").GetString());
        Assert.Equal(0, trace.GetProperty("standardError").GetDouble());
        Assert.Equal(3, top.Length);
        for (int i = 0; i < 3; i++) Assert.True(Relative(top[i], lib.TopEigen!.Values[i]) < 1e-5, $"λ_{i + 1}: {top[i]} vs {lib.TopEigen.Values[i]}");

        // Layer-wise rescaling of the run's weights: κ unchanged, the plain trace changed.
        var rep = CliRunner.Run(dir, null, "reparametrize", "--run", id, "--samples", "64", "--seed", "2", "--json", "--threads", "1");
        Assert.True(rep.ExitCode == 0, rep.ToString());
        using var repDoc = JsonDocument.Parse(rep.Stdout);
        var changes = repDoc.RootElement.GetProperty("measures").EnumerateArray()
            .ToDictionary(m => m.GetProperty("measure").GetString()!, m => m.GetProperty("changed").GetBoolean());
        Assert.False(changes["relative flatness (closed-form)"], rep.Stdout);
        Assert.True(changes["hessian trace (exact)"], rep.Stdout);
        Assert.True(changes["lambda max"], rep.Stdout);
        Assert.Equal(4, repDoc.RootElement.GetProperty("rescalings").GetArrayLength());
    }

    [Fact]
    public void PyTorchWeightsAndTensorsGiveThePyTorchNumbers()
    {
        var dir = CliRunner.TempDir();
        var tensors = Path.Combine(dir, "io.safetensors");
        using (var io = SafeTensors.Load(PyTorchCrossCheckTests.Io))
        using (var labels = torch.tensor(PyTorchCrossCheckTests.Labels))
            SafeTensors.Save(tensors, new Dictionary<string, Tensor> { ["input"] = io.Tensors["input"], ["labels"] = labels });
        var r = CliRunner.Run(dir, null, "geometry", "--weights", PyTorchCrossCheckTests.Weights, "--model", "lenet5", "--layer", "fc3", "--tensors", tensors,
            "--measures", "relative-flatness,hessian-trace-weight,top-eigenvalues-weight", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var layer = doc.RootElement.GetProperty("layers")[0];
        Assert.True(Relative(layer.GetProperty("relativeFlatness").GetProperty("value").GetDouble(), PyTorchCrossCheckTests.KappaFc3) < 1e-5);
        Assert.True(Relative(layer.GetProperty("hessianTrace").GetProperty("value").GetDouble(), PyTorchCrossCheckTests.TraceFc3) < 1e-5);
        Assert.True(Relative(layer.GetProperty("topEigen").GetProperty("values")[0].GetDouble(), PyTorchCrossCheckTests.Top5Fc3[0]) < 1e-5);
    }

    [Fact]
    public void BadRequestsEndInOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 16, test: 8);
        var lenet = PyTorchCrossCheckTests.Weights;
        string[] Measure(params string[] extra) => ["geometry", "--weights", lenet, "--model", "lenet5", "--data", data, "--threads", "1", .. extra];
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Measure("--layer", "fc7")), "unknown layer 'fc7'");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Measure("--measures", "relative-flatness,sharpness")), "measure 'sharpness' is one number per model");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Measure("--samples", "0")), "--samples must be at least 1");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Measure("--variant", "exact")), "unknown relative-flatness variant 'exact'");

        var resnet = Path.Combine(dir, "resnet.safetensors");
        using (var model = ModelSpec.Create("resnet", [1, 28, 28], 10, seed: 0)) Weights.Save(model, resnet);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "geometry", "--weights", resnet, "--model", "resnet", "--data", data, "--layer", "layer1.0.bn1"),
            "'layer1.0.bn1' is a BatchNorm2d");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "reparametrize", "--weights", resnet, "--model", "resnet", "--data", data, "--samples", "8"),
            "supports mlp");
    }
}
