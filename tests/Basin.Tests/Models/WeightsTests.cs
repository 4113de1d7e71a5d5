using System.Text;
using Basin.IO;
using Basin.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Models;

public sealed class WeightsTests : IDisposable
{
    static readonly long[] Image = [1, 28, 28];
    static readonly string PyTorchWeights = Path.Combine(AppContext.BaseDirectory, "Fixtures", "lenet5_pytorch.safetensors");
    static readonly string PyTorchIo = Path.Combine(AppContext.BaseDirectory, "Fixtures", "lenet5_pytorch_io.safetensors");

    readonly string dir = Directory.CreateTempSubdirectory("basin-weights-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string TempPath(string name) => Path.Combine(dir, name);

    static Dictionary<string, Tensor> Snapshot(nn.Module m) => m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    static void AssertSameState(Dictionary<string, Tensor> expected, nn.Module m)
    {
        var actual = m.state_dict();
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, t) in expected)
        {
            Assert.Equal(t.dtype, actual[name].dtype);
            Assert.True(TensorBits.Same(t, actual[name]), $"{name} changed");
        }
    }

    [Fact]
    public void PyTorchTrainedLeNet5ReproducesPyTorchsLogits()
    {
        using var scope = torch.NewDisposeScope();
        var model = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        using var io = SafeTensors.Load(PyTorchIo);
        var input = io.Tensors["input"];
        var expected = io.Tensors["logits"];
        Assert.Equal(new long[] { 4, 1, 28, 28 }, input.shape);

        model.eval();
        var before = model.forward(input);
        Assert.True((before - expected).abs().max().item<float>() > 1e-2); // the fixture is not Basin's init

        Weights.Load(model, PyTorchWeights);
        var logits = model.forward(input);
        Assert.Equal(new long[] { 4, 10 }, logits.shape);
        Assert.True((logits - expected).abs().max().item<float>() <= 1e-5, $"max difference {(logits - expected).abs().max().item<float>()}");
        Assert.Equal(expected.argmax(1).data<long>().ToArray(), logits.argmax(1).data<long>().ToArray());
        model.Dispose();
    }

    [Fact]
    public void SavingPyTorchWeightsBackGivesTheSameFileByteForByte()
    {
        using var model = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        Weights.Load(model, PyTorchWeights);
        var path = TempPath("lenet5.safetensors");
        Weights.Save(model, path);
        Assert.Equal(File.ReadAllBytes(PyTorchWeights), File.ReadAllBytes(path));
        using var original = SafeTensors.Load(PyTorchWeights);
        using var saved = SafeTensors.Load(path);
        Assert.Equal(original.Tensors.Keys, saved.Tensors.Keys);
        foreach (var (name, t) in original.Tensors) Assert.True(TensorBits.Same(t, saved.Tensors[name]), name);
    }

    [Theory]
    [InlineData("lenet5")]
    [InlineData("mlp:64,32:tanh")]
    [InlineData("resnet")]
    public void SaveThenLoadIsBitExactIncludingBatchNormBuffers(string spec)
    {
        using var scope = torch.NewDisposeScope();
        var source = ModelSpec.Create(spec, Image, 10, seed: 1);
        source.train();
        for (int i = 0; i < 3; i++) source.forward(torch.randn(8, 1, 28, 28)); // moves BatchNorm running statistics
        var path = TempPath("model.safetensors");
        Weights.Save(source, path, new Dictionary<string, string> { ["basin.spec"] = source.Spec });

        var target = ModelSpec.Create(spec, Image, 10, seed: 2);
        Weights.Load(target, path);
        AssertSameState(Snapshot(source), target);

        if (spec == "resnet")
        {
            Assert.Equal(3L, target.state_dict()["layer2.0.downsample.1.num_batches_tracked"].item<long>());
            Assert.False(TensorBits.Same(target.state_dict()["bn1.running_mean"], torch.zeros(16)));
        }
        source.eval();
        target.eval();
        var x = torch.randn(4, 1, 28, 28);
        Assert.True(TensorBits.Same(source.forward(x), target.forward(x)));
        using var file = SafeTensors.Load(path);
        Assert.Equal(spec == "resnet" ? "resnet:1" : source.Spec, file.Metadata["basin.spec"]);
        source.Dispose();
        target.Dispose();
    }

    [Fact]
    public void LoadedParametersStayTrainableLeaves()
    {
        using var model = ModelSpec.Create("mlp:16", Image, 10, seed: 0);
        var path = TempPath("mlp.safetensors");
        Weights.Save(model, path);
        Weights.Load(model, path);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad && p.is_leaf));
    }

    [Fact]
    public void Float64FileLoadsIntoFloat32Model()
    {
        using var scope = torch.NewDisposeScope();
        var source = ModelSpec.Create("lenet5", Image, 10, seed: 3);
        var path = TempPath("f64.safetensors");
        SafeTensors.Save(path, source.state_dict().Select(kv => KeyValuePair.Create(kv.Key, kv.Value.to_type(ScalarType.Float64))));
        var target = ModelSpec.Create("lenet5", Image, 10, seed: 4);
        Weights.Load(target, path);
        AssertSameState(Snapshot(source), target); // float32 → float64 → float32 is exact
        source.Dispose();
        target.Dispose();
    }

    [Fact]
    public void MissingUnexpectedAndMisshapenTensorsAreAllNamedAndTheModelIsUnchanged()
    {
        using var scope = torch.NewDisposeScope();
        var model = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        var tensors = model.state_dict().Where(kv => kv.Key != "fc3.bias").ToDictionary(kv => kv.Key, kv => kv.Value.detach() + 1);
        tensors["fc4.weight"] = torch.zeros(3, 3);
        tensors["fc1.weight"] = torch.zeros(10, 400);
        var path = TempPath("weights.safetensors");
        SafeTensors.Save(path, tensors);
        var before = Snapshot(model);

        var e = Assert.Throws<DataFormatException>(() => Weights.Load(model, path));
        Assert.Equal("weights.safetensors does not fit model lenet5: missing fc3.bias; unexpected fc4.weight; fc1.weight has shape [10,400], model expects [120,400]", e.Message);
        AssertSameState(before, model);

        // non-strict tolerates the names but still refuses the wrong shape, again without touching the model
        e = Assert.Throws<DataFormatException>(() => Weights.Load(model, path, strict: false));
        Assert.Equal("weights.safetensors does not fit model lenet5: fc1.weight has shape [10,400], model expects [120,400]", e.Message);
        AssertSameState(before, model);
        model.Dispose();
    }

    [Fact]
    public void NonStrictLoadCopiesTheNamesInCommon()
    {
        using var scope = torch.NewDisposeScope();
        var model = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        var before = Snapshot(model);
        var path = TempPath("partial.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["fc3.bias"] = torch.full(10, 0.5f), ["extra"] = torch.ones(2) });
        Weights.Load(model, path, strict: false);
        Assert.True(model.state_dict()["fc3.bias"].eq(torch.full(10, 0.5f)).all().item<bool>());
        Assert.True(TensorBits.Same(model.state_dict()["fc3.weight"], before["fc3.weight"]));

        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["extra"] = torch.ones(2) });
        Assert.Contains("no tensor name in common", Assert.Throws<DataFormatException>(() => Weights.Load(model, path, strict: false)).Message);
        model.Dispose();
    }

    [Fact]
    public void WeightsOfAnotherModelListAFewProblemsAndCountTheRest()
    {
        using var mlp = ModelSpec.Create("mlp:512,512", Image, 10, seed: 0);
        using var lenet = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        var path = TempPath("mlp.safetensors");
        Weights.Save(mlp, path);
        var before = Snapshot(lenet);
        var e = Assert.Throws<DataFormatException>(() => Weights.Load(lenet, path));
        // 4 missing conv tensors and 5 misshapen fc tensors (fc3.bias [10] fits)
        Assert.Equal("mlp.safetensors does not fit model lenet5: missing conv1.weight; missing conv1.bias; missing conv2.weight; " +
                     "missing conv2.bias; fc1.weight has shape [512,784], model expects [120,400]; and 4 more", e.Message);
        AssertSameState(before, lenet);
    }

    [Fact]
    public void FloatingTensorForAnIntegerBufferIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        var model = ModelSpec.Create("resnet", Image, 10, seed: 0);
        var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Key == "bn1.num_batches_tracked" ? torch.tensor(2.5f) : kv.Value);
        var path = TempPath("resnet.safetensors");
        SafeTensors.Save(path, tensors);
        var before = Snapshot(model);
        var e = Assert.Throws<DataFormatException>(() => Weights.Load(model, path));
        Assert.EndsWith("does not fit model resnet:1: bn1.num_batches_tracked has dtype Float32, model expects Int64", e.Message);
        AssertSameState(before, model);
        model.Dispose();
    }

    [Theory]
    [InlineData(100, "file truncated?")]
    [InlineData(-20, "truncated safetensors header")]
    [InlineData(-4, "shorter than its 8-byte header length")]
    public void TruncatedFileIsADataFormatErrorAndTheModelIsUnchanged(int cut, string cause)
    {
        using var model = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        var bytes = File.ReadAllBytes(PyTorchWeights);
        var path = TempPath("cut.safetensors");
        File.WriteAllBytes(path, cut > 0 ? bytes[..^cut] : bytes[..-cut]);
        var before = Snapshot(model);
        var e = Assert.Throws<DataFormatException>(() => Weights.Load(model, path));
        Assert.Contains(cause, e.Message);
        Assert.Contains(path, e.Message);
        AssertSameState(before, model);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}""", "tensor 'a'")]
    [InlineData("""{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}""", "tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}""", "tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}""", "tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "header")]
    [InlineData("""[1,2]""", "not a JSON object")]
    public void MalformedHeadersAreDataFormatErrors(string json, string cause)
    {
        var header = Encoding.UTF8.GetBytes(json);
        using var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes((ulong)header.Length));
        ms.Write(header);
        ms.Write(new byte[4]);
        ms.Position = 0;
        var e = Assert.Throws<DataFormatException>(() => SafeTensors.Read(ms));
        Assert.Contains(cause, e.Message);
    }

    [Fact]
    public void MissingFileIsABasinException()
    {
        using var model = ModelSpec.Create("lenet5", Image, 10, seed: 0);
        var e = Assert.Throws<BasinException>(() => Weights.Load(model, TempPath("nope.safetensors")));
        Assert.Contains("not found", e.Message);
    }
}
