using Basin.Data;
using Basin.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

public class WeightDecayTests
{
    static (TinyMlp Model, NamedParameter[] Parameters) Gradients(WeightDecay term)
    {
        var model = new TinyMlp(dropout: 0, seed: 5);
        model.to(float64);
        var parameters = NamedParameter.Of(model);
        using var scope = NewDisposeScope();
        var batch = new Batch(randn(4, 20, dtype: float64), zeros(4, dtype: int64), arange(4));
        var objective = new Objective([term]);
        var context = new GradientContext(model, parameters, batch, default, b => objective.Evaluate(model, parameters, b, default, 4));
        new Backpropagation().ComputeGradients(context);
        return (model, parameters);
    }

    [Fact]
    public void GradientIsAlphaTimesTheWeights()
    {
        var (model, parameters) = Gradients(new WeightDecay(0.3));
        using (model)
        {
            Assert.Equal(4, parameters.Length);
            foreach (var p in parameters)
            {
                using var expected = p.Value.detach() * 0.3;
                using var grad = p.Value.grad!;
                TensorAssert.BitIdentical(expected, grad, p.Name);
            }
        }
    }

    [Fact]
    public void BiasesCanBeLeftOut()
    {
        var (model, parameters) = Gradients(new WeightDecay(0.3) { IncludeBiases = false });
        using (model)
        {
            foreach (var p in parameters)
            {
                using var grad = p.Value.grad;
                if (p.IsBias) Assert.True(grad is null || grad.count_nonzero().ToInt64() == 0, $"{p.Name} got a gradient");
                else
                {
                    using var expected = p.Value.detach() * 0.3;
                    TensorAssert.BitIdentical(expected, grad!, p.Name);
                }
            }
        }
    }

    [Fact]
    public void ValueIsHalfAlphaTimesTheSquaredNorm()
    {
        using var model = new TinyMlp(dropout: 0, seed: 5);
        model.to(float64);
        var parameters = NamedParameter.Of(model);
        using var scope = NewDisposeScope();
        double squared = parameters.Sum(p => p.Value.square().sum().ToDouble());
        var batch = new Batch(randn(2, 20, dtype: float64), zeros(2, dtype: int64), arange(2));
        var value = new Objective([new WeightDecay(0.3)]).Evaluate(model, parameters, batch, default, 2);
        Assert.Equal(0.15 * squared, value.Total.ToDouble(), 12);
    }
}
