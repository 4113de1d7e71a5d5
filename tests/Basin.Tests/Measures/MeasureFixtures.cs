using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Tests.Measures;

/// <summary>Tiny float64 ReLU networks fitted to learnable toy data, so margins are positive and every measure is defined.</summary>
static class MeasureFixtures
{
    /// <summary>Gaussian inputs [n, features]; labels = argmax of a fixed random linear map (learnable).</summary>
    public static LabeledDataset Data(int n = 60, int features = 6, int classes = 3, long seed = 11)
    {
        using var g = new torch.Generator((ulong)seed);
        var x = torch.randn([n, features], generator: g);
        using var r = torch.randn([features, classes], generator: g);
        using var scores = x.mm(r);
        var y = scores.argmax(1);
        return new LabeledDataset("toy", x, y, classes);
    }

    /// <summary>A ReLU MLP (float64) trained by full-batch gradient descent on <paramref name="data"/>.</summary>
    public static Classifier TrainedMlp(LabeledDataset data, string hidden = "8,8", int steps = 300, double lr = 0.2, long seed = 3)
    {
        var model = ModelSpec.Create($"mlp:{hidden}:relu", data.ExampleShape, data.ClassCount, seed);
        model.to(ScalarType.Float64);
        Fit(model, data, steps, lr);
        return model;
    }

    public static void Fit(Classifier model, LabeledDataset data, int steps, double lr)
    {
        var ps = model.parameters().ToArray();
        for (int s = 0; s < steps; s++)
        {
            using var scope = torch.NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(data.Inputs.to_type(ScalarType.Float64)), data.Labels);
            var g = torch.autograd.grad([loss], ps);
            using var noGrad = torch.no_grad();
            for (int i = 0; i < ps.Length; i++) ps[i].add_(g[i], -lr);
        }
    }
}
