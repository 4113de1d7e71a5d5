using Basin.Data;
using Basin.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

/// <summary>
/// Basin's update rules plus the WeightDecay term make the same steps as TorchSharp's
/// torch.optim.SGD/Adam with their coupled weight_decay, in float64, on mini-batches of a small MLP.
/// </summary>
public class TorchParityTests
{
    const double Alpha = 0.01, Rate = 0.05;

    static void Compare(IUpdateRule rule, Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> torchOptimizer)
    {
        using var data = TinyData.Make(40, seed: 7);
        using var ours = new TinyMlp(dropout: 0, seed: 3);
        using var theirs = new TinyMlp(dropout: 0, seed: 3);
        ours.to(float64);
        theirs.to(float64);
        using var x = data.Inputs.to(float64);
        var parameters = NamedParameter.Of(ours);
        using var updater = rule.Bind(parameters);
        var objective = new Objective([new CrossEntropy(), new WeightDecay(Alpha)]);
        var optimizer = torchOptimizer(theirs.parameters());

        for (int step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            long start = step % 4 * 10;
            var batch = new Batch(x.narrow(0, start, 10), data.Labels.narrow(0, start, 10), arange(start, start + 10));

            var context = new GradientContext(ours, parameters, batch, new TrainingPosition(0, step, step),
                b => objective.Evaluate(ours, parameters, b, new TrainingPosition(0, step, step), data.Count));
            new Backpropagation().ComputeGradients(context);
            updater.Apply(Rate);

            optimizer.zero_grad();
            nn.functional.cross_entropy(theirs.forward(batch.Inputs), batch.Labels).backward();
            optimizer.step();
        }

        var theirState = theirs.state_dict();
        foreach (var (name, mine) in ours.state_dict())
        {
            double diff = (mine - theirState[name]).abs().max().ToDouble();
            Assert.True(diff <= 1e-12, $"{name}: differs from torch.optim by {diff:G3}");
        }
    }

    [Fact]
    public void SgdWithMomentumMatchesTorchSgd() =>
        Compare(new Sgd(Momentum: 0.9), ps => optim.SGD(ps, Rate, momentum: 0.9, weight_decay: Alpha));

    [Fact]
    public void SgdWithNesterovMatchesTorchSgd() =>
        Compare(new Sgd(Momentum: 0.9, Nesterov: true), ps => optim.SGD(ps, Rate, momentum: 0.9, weight_decay: Alpha, nesterov: true));

    [Fact]
    public void PlainSgdMatchesTorchSgd() =>
        Compare(new Sgd(), ps => optim.SGD(ps, Rate, weight_decay: Alpha));

    [Fact]
    public void AdamMatchesTorchAdam() =>
        Compare(new Adam(), ps => optim.Adam(ps, Rate, weight_decay: Alpha));

    [Fact]
    public void RmsPropMatchesTorchRmsProp() =>
        Compare(new RmsProp(), ps => optim.RMSProp(ps, Rate, weight_decay: Alpha));

    [Fact]
    public void AdamWithTheGanBetasMatchesTorchAdam() =>
        Compare(new Adam(0.5, 0.9), ps => optim.Adam(ps, Rate, beta1: 0.5, beta2: 0.9, weight_decay: Alpha));
}
