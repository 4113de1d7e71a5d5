using Basin.Models;
using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// The common loop of SAM-style procedures: gradient at w, a perturbation e from it, gradient at w + e on the
/// same batch, then the weights put back. The weights are restored by copying a saved copy, not by subtracting
/// e, so they come back bit for bit ((w + e) − e need not equal w in floating point).
/// </summary>
public abstract record WeightPerturbation : IGradientProcedure
{
    public abstract string Name { get; }

    /// <summary>The perturbation for every parameter with a gradient (same order; null where the gradient is null).</summary>
    protected abstract Tensor?[] Perturbation(IReadOnlyList<NamedParameter> parameters, Tensor?[] gradients);

    public ObjectiveValue ComputeGradients(GradientContext context)
    {
        context.ClearGradients();
        var value = context.Evaluate();
        value.Total.backward();
        var parameters = context.Parameters;
        WeightSnapshot saved;
        using (no_grad())
        {
            var gradients = parameters.Select(p => p.Value.grad).ToArray();
            var e = Perturbation(parameters, gradients);
            var moved = Enumerable.Range(0, parameters.Count).Where(i => e[i] is not null).ToArray();
            saved = WeightSnapshot.Of(moved.Select(i => parameters[i].Value).ToArray());
            foreach (int i in moved) parameters[i].Value.add_(e[i]!, Scalars.One);
        }
        try
        {
            context.ClearGradients();
            context.Evaluate().Total.backward();
        }
        finally
        {
            saved.Restore();
            saved.Dispose();
        }
        return value;
    }

    /// <summary>‖x‖ over all non-null tensors together, accumulated in float64.</summary>
    protected static double JointNorm(IEnumerable<Tensor?> tensors)
    {
        double sum = 0;
        foreach (var t in tensors)
            if (t is not null) sum += t.to_type(ScalarType.Float64).pow(Scalars.Two).sum().ToDouble();
        return Math.Sqrt(sum);
    }
}
