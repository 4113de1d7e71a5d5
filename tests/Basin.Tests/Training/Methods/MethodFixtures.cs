using Basin.Data;
using Basin.Models;
using Basin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Tests.Training.Methods;

/// <summary>Small problems and probes shared by the method tests.</summary>
internal static class MethodFixtures
{
    /// <summary>A batch holding a whole data set, with indices 0..N−1, inputs converted to <paramref name="dtype"/> (data sets are float32).</summary>
    public static Batch WholeBatch(LabeledDataset data, ScalarType dtype = ScalarType.Float64) =>
        new(data.Inputs.to_type(dtype), data.Labels, arange(data.Count, dtype: ScalarType.Int64));

    /// <summary>A gradient context over <paramref name="terms"/> at step <paramref name="step"/> (the trainer's wiring, by hand).</summary>
    public static GradientContext Context(Classifier model, Batch batch, IReadOnlyList<IObjectiveTerm> terms, long exampleCount, TrainingPosition position = default)
    {
        var parameters = NamedParameter.Of(model);
        var objective = new Objective(terms);
        return new GradientContext(model, parameters, batch, position, part => objective.Evaluate(model, parameters, part, position, exampleCount))
        {
            Terms = terms,
            ExampleCount = exampleCount,
        };
    }

    /// <summary>Copies of every trainable parameter, in order.</summary>
    public static Tensor[] Snapshot(IEnumerable<NamedParameter> parameters) =>
        parameters.Select(p => p.Value.detach().clone()).ToArray();

    /// <summary>The plain batch gradient of the objective at the model's current weights (zeros where unused).</summary>
    public static Tensor[] Gradient(Classifier model, Batch batch, IReadOnlyList<IObjectiveTerm> terms, long exampleCount)
    {
        var context = Context(model, batch, terms, exampleCount);
        new Backpropagation().ComputeGradients(context);
        var g = context.Parameters.Select(p => p.Value.grad is { } x ? x.clone() : zeros_like(p.Value)).ToArray();
        context.ClearGradients();
        return g;
    }

    /// <summary>
    /// Central finite differences of <paramref name="loss"/> (step <paramref name="h"/>, float64 models) in every coordinate
    /// of every parameter against the autograd gradients <paramref name="grads"/>, to 1e-7 + 1e-6·|fd|.
    /// </summary>
    public static void AssertMatchesFiniteDifferences(NamedParameter[] parameters, Tensor[] grads, Func<double> loss, double h = 1e-6)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            var flat = parameters[i].Value.detach().view(-1);
            var g = grads[i].view(-1);
            for (long k = 0; k < flat.shape[0]; k++)
            {
                double w = flat[k].ToDouble();
                using (no_grad()) flat[k] = w + h;
                double up = loss();
                using (no_grad()) flat[k] = w - h;
                double down = loss();
                using (no_grad()) flat[k] = w;
                double fd = (up - down) / (2 * h), analytic = g[k].ToDouble();
                Xunit.Assert.True(Math.Abs(fd - analytic) <= 1e-7 + 1e-6 * Math.Abs(fd), $"{parameters[i].Name}[{k}]: autograd {analytic}, finite differences {fd}");
            }
        }
    }

    public static double MaxAbsDiff(Tensor a, Tensor b) => a.to_type(ScalarType.Float64).sub(b.to_type(ScalarType.Float64)).abs().max().ToDouble();

}

/// <summary>An objective term that records what each evaluation saw (weights, epoch, indices, logits) and adds nothing.</summary>
internal sealed class Spy : IObjectiveTerm
{
    public List<(TrainingPosition Position, Tensor[] Weights, Tensor Indices, Tensor Logits)> Calls { get; } = [];

    public string Name => "spy";

    public Tensor Compute(ObjectiveContext context)
    {
        using (no_grad())
            Calls.Add((context.Position, context.Parameters.Select(p => p.Value.detach().clone().DetachFromDisposeScope()).ToArray(),
                context.Batch.Indices.clone().DetachFromDisposeScope(), context.Logits.detach().clone().DetachFromDisposeScope()));
        return zeros(1, dtype: context.Logits.dtype).sum();
    }
}

/// <summary>Wraps a term and records each value it returned, with the evaluation's position, indices and logits.</summary>
internal sealed class Recording(IObjectiveTerm inner) : IObjectiveTerm
{
    public List<(TrainingPosition Position, Tensor Indices, Tensor Logits, double Value)> Calls { get; } = [];

    public string Name => inner.Name;

    public Tensor Compute(ObjectiveContext context)
    {
        var value = inner.Compute(context);
        using (no_grad())
            Calls.Add((context.Position, context.Batch.Indices.clone().DetachFromDisposeScope(), context.Logits.detach().clone().DetachFromDisposeScope(), value.ToDouble()));
        return value;
    }
}
