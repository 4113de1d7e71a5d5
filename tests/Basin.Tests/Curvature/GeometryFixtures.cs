using Basin.Tests.Flatness;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Data;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Tests.Curvature;

/// <summary>Small float64 problems where every curvature quantity can be computed exactly.</summary>
static class GeometryFixtures
{
    /// <summary>MLP 6-5-4-3 in float64.</summary>
    public static Classifier SmallMlp(string activation = "tanh", long seed = 1)
    {
        var model = ModelSpec.Create($"mlp:5,4:{activation}", [6], 3, seed);
        model.to(ScalarType.Float64);
        return model;
    }

    /// <summary>Gaussian inputs [n,6] with labels from a fixed random linear rule plus noise (so no class is empty).</summary>
    public static LabeledDataset ToyData(int n = 40, long seed = 7, int features = 6, int classes = 3)
    {
        using var g = new torch.Generator((ulong)seed);
        var x = torch.randn([n, features], generator: g);
        var y = torch.randint(0, classes, [n], ScalarType.Int64, generator: g);
        return new LabeledDataset("toy", x, y, classes);
    }

    /// <summary>
    /// The Hessian of the mean cross-entropy by the parameters, built row by row with plain autograd
    /// (independent of the engine): row i = ∇(∂L/∂θ_i).
    /// </summary>
    public static Tensor BruteForceHessian(Classifier model, LabeledDataset data, ParameterSet set)
    {
        using var scope = torch.NewDisposeScope();
        var ps = set.Parameters.Cast<Tensor>().ToArray();
        var loss = nn.functional.cross_entropy(model.forward(data.Inputs.to_type(ScalarType.Float64)), data.Labels);
        var g = torch.cat(torch.autograd.grad([loss], ps, null, true, true).Select(t => t.reshape(-1)).ToArray());
        long n = g.shape[0];
        var h = torch.empty(n, n, ScalarType.Float64);
        for (long i = 0; i < n; i++)
        {
            var row = torch.autograd.grad([g[i]], ps, null, true, false, true);
            h[TensorIndex.Single(i)] = torch.cat(row.Select((t, j) => (t is null || t.IsInvalid ? torch.zeros_like(ps[j]) : t).reshape(-1)).ToArray());
        }
        return h.MoveToOuterDisposeScope();
    }

    public static double RelativeError(double actual, double expected) => Math.Abs(actual - expected) / Math.Abs(expected);

    public static double MaxAbs(Tensor t)
    {
        using var a = t.abs().max();
        return a.ToDouble();
    }
}
