using Basin.Tests.Flatness;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Curvature;

public class HessianEngineErrorTests
{
    /// <summary>A classifier with a registered layer that forward never uses.</summary>
    sealed class WithSpareLayer : Classifier
    {
        readonly Linear fc1 = nn.Linear(4, 3);
        readonly Linear spare = nn.Linear(4, 3);
        public WithSpareLayer() : base(nameof(WithSpareLayer)) => RegisterComponents();
        public override string Spec => "spare";
        public override int ClassCount => 3;
        public override string HeadName => "fc1";
        public override Linear Head => fc1;
        public override Tensor Features(Tensor input) => input.alias();
    }

    [Fact]
    public void UnknownLayerNameListsTheAvailableLayers()
    {
        using var model = SmallMlp();
        var e = Assert.Throws<BasinException>(() => ParameterSet.Select(model, "fc9"));
        Assert.Equal("unknown layer 'fc9'; available: fc1, fc2, fc3", e.Message);
    }

    [Fact]
    public void ZeroSamplesAreRejected()
    {
        using var model = SmallMlp();
        using var empty = new LabeledDataset("empty", torch.zeros(0, 6), torch.zeros(0, ScalarType.Int64), 3);
        var e = Assert.Throws<BasinException>(() => new HessianVectorProduct(model, empty, ParameterSet.All(model)));
        Assert.Contains("no examples", e.Message);
        Assert.Throws<BasinException>(() => new GaussNewtonVectorProduct(model, empty, ParameterSet.All(model)));
    }

    [Fact]
    public void ParametersWithoutGradientPathAreNamedNotAborted()
    {
        using var model = new WithSpareLayer();
        using var data = ToyData(8, features: 4);
        var e = Assert.Throws<BasinException>(() => new HessianVectorProduct(model, data, ParameterSet.Select(model, "spare")));
        Assert.Equal("parameters without a gradient path to the loss: spare.weight, spare.bias; leave them out of the parameter set", e.Message);
        e = Assert.Throws<BasinException>(() => new GaussNewtonVectorProduct(model, data, ParameterSet.All(model)));
        Assert.Contains("spare.weight, spare.bias", e.Message);
        // The used layer alone works.
        using var hvp = new HessianVectorProduct(model, data, ParameterSet.Select(model, "fc1"));
        Assert.Equal(15, hvp.Dimension);
    }

    [Fact]
    public void ALossThatIgnoresTheParametersIsRejectedBeforeAnyAutogradCall()
    {
        // The loss does not require gradients, which libtorch's autograd.grad would abort the process on;
        // the check reads requires_grad and throws without calling autograd.
        using var model = SmallMlp();
        using var data = ToyData(8);
        var options = new CurvatureOptions { Loss = (z, y) => torch.tensor(1.0, ScalarType.Float64) };
        var e = Assert.Throws<BasinException>(() => new HessianVectorProduct(model, data, ParameterSet.All(model), options));
        Assert.StartsWith("no parameter of [fc1.weight, fc1.bias", e.Message);
    }

    [Fact]
    public void LabelsOutsideTheModelsClassesAreRejected()
    {
        using var model = SmallMlp();
        using var data = new LabeledDataset("toy", torch.randn(4, 6), torch.tensor(new long[] { 0, 1, 5, 2 }), 6);
        var e = Assert.Throws<BasinException>(() => new HessianVectorProduct(model, data, ParameterSet.All(model)));
        Assert.Equal("labels must lie in 0..2 for a model with 3 outputs, found 5", e.Message);
    }

    [Fact]
    public void FrozenOrMixedDtypeParametersAreRejected()
    {
        using var model = SmallMlp();
        model.Head.weight!.requires_grad = false;
        var e = Assert.Throws<BasinException>(() => ParameterSet.Select(model, "fc3"));
        Assert.Contains("'fc3.weight' does not require gradients", e.Message);
        model.Head.weight!.requires_grad = true;
        model.Head.to(ScalarType.Float32);
        e = Assert.Throws<BasinException>(() => ParameterSet.All(model));
        Assert.Contains("dtype", e.Message);
    }
}
