using Basin.Curvature;
using Basin.Flatness;
using Basin.Landscape;
using Basin.Models;
using TorchSharp;
using Xunit;
using static Basin.Tests.Curvature.GeometryFixtures;
using static TorchSharp.torch;

namespace Basin.Tests.Landscape;

public class CurveTests
{
    [Fact]
    public void CurveTrainingSettingsAreCheckedWhenSet()
    {
        string Error(Func<CurveTrainingOptions> make) => Assert.Throws<BasinException>(() => make()).Message;
        Assert.Equal("--epochs must be at least 1, got 0", Error(() => new CurveTrainingOptions { Epochs = 0 }));
        Assert.Equal("batch size must be at least 1, got -2", Error(() => new CurveTrainingOptions { BatchSize = -2 }));
        Assert.Equal("--lr must be a positive number, got NaN", Error(() => new CurveTrainingOptions { LearningRate = double.NaN }));
        Assert.Equal("momentum must be in [0, 1), got 1", Error(() => new CurveTrainingOptions { Momentum = 1 }));
        Assert.Equal("weight decay must be ≥ 0, got -0.1", Error(() => new CurveTrainingOptions { WeightDecay = -0.1 }));
        Assert.Equal("--epochs must be at least 1, got 0", Error(() => new CurveTrainingOptions() with { Epochs = 0 }));
        Assert.Equal((10, 128, 0.05, 0.9, 0.0), (new CurveTrainingOptions().Epochs, new CurveTrainingOptions().BatchSize,
            new CurveTrainingOptions().LearningRate, new CurveTrainingOptions().Momentum, new CurveTrainingOptions().WeightDecay));
    }

    [Fact]
    public void BarrierOfAParabolaIsOneAndOfALineZero()
    {
        var ts = Slices.Grid(0, 1, 11);
        var b = LossBarrier.Of(ts, ts.Select(t => 1 + 4 * t * (1 - t)).ToArray());
        Assert.Equal(1, b.Max, 12);
        Assert.Equal(1, b.Chord, 12);
        Assert.Equal(0.5, b.PeakT, 12);
        var linear = LossBarrier.Of(ts, ts.Select(t => 2 - t).ToArray());
        Assert.Equal(0, linear.Max, 12);
        Assert.Equal(0, linear.Chord, 12);
        // Rising monotonically to a worse end: no bump above the higher end, but an excess over the chord.
        var rising = LossBarrier.Of(ts, ts.Select(t => Math.Sqrt(t)).ToArray());
        Assert.Equal(0, rising.Max, 12);
        Assert.True(rising.Chord > 0.2);
        // Points outside [0, 1] do not count.
        Assert.Equal(0, LossBarrier.Of([-0.5, 0, 1, 1.5], [9, 1, 1, 9]).Max);
        Assert.Contains("t = 1", Assert.Throws<BasinException>(() => LossBarrier.Of([0, 0.5], [1, 1])).Message);
    }

    [Fact]
    public void InterpolationBetweenAModelAndItselfHasNoBarrier()
    {
        using var model = SmallMlp("relu");
        using var same = Reparametrization.Copy(model);
        using var data = ToyData();
        var line = Interpolation.Line(model, same, data, Interpolation.DefaultTs());
        Assert.Equal(0, line.Barrier.Max);
        Assert.Equal(0, line.Barrier.Chord);
        Assert.All(line.Loss, l => Assert.Equal(line.Loss[0], l));
        using var other = SmallMlp("relu", seed: 2);
        Assert.True(Interpolation.Line(model, other, data, Interpolation.DefaultTs()).Loss.Distinct().Count() > 1);
    }

    [Fact]
    public void CurveCoefficientsSumToOneAndPolyChainPassesThroughTheControlPoint()
    {
        foreach (var kind in new[] { CurveKind.Bezier, CurveKind.PolyChain })
            foreach (var t in Slices.Grid(0, 1, 13))
            {
                var (a, c, b) = Curve.Coefficients(kind, t);
                Assert.Equal(1, a + c + b, 14);
            }
        Assert.Equal((0.25, 0.5, 0.25), Curve.Coefficients(CurveKind.Bezier, 0.5));
        Assert.Equal((0.0, 1.0, 0.0), Curve.Coefficients(CurveKind.PolyChain, 0.5));
        Assert.Equal((0.5, 0.5, 0.0), Curve.Coefficients(CurveKind.PolyChain, 0.25));
        Assert.Contains("t in [0, 1]", Assert.Throws<BasinException>(() => Curve.Coefficients(CurveKind.Bezier, 1.5)).Message);
    }

    [Fact]
    public void BezierThroughTheMidpointIsTheStraightLine()
    {
        using var a = SmallMlp("relu", seed: 1);
        using var b = SmallMlp("relu", seed: 2);
        using var data = ToyData();
        var ts = Slices.Grid(0, 1, 11);
        var line = Interpolation.Line(a, b, data, ts);
        using var curve = new Curve(CurveKind.Bezier, a.parameters().ToArray(), b.parameters().ToArray());
        using var work = Reparametrization.Copy(a);
        var profile = CurveTraining.Profile(curve, work, data, ts);
        for (int i = 0; i < ts.Length; i++) Assert.True(Math.Abs(profile.Loss[i] - line.Loss[i]) < 1e-12, $"t={ts[i]}: {profile.Loss[i]} vs {line.Loss[i]}");
        Assert.True(Math.Abs(profile.Barrier.Chord - line.Barrier.Chord) < 1e-12);
    }

    [Fact]
    public void TrainingMovesOnlyTheControlPointAndKeepsTheEndPointsToTheLastBit()
    {
        using var scope = torch.NewDisposeScope();
        using var a = SmallMlp("relu", seed: 1);
        using var b = SmallMlp("relu", seed: 2);
        using var data = ToyData(n: 64);
        var startA = a.parameters().Select(p => p.detach().clone()).ToArray();
        var startB = b.parameters().Select(p => p.detach().clone()).ToArray();
        using var curve = new Curve(CurveKind.Bezier, a.parameters().ToArray(), b.parameters().ToArray());
        var control0 = curve.Control.Select(t => t.clone()).ToArray();
        using var work = Reparametrization.Copy(a);
        var ts = Slices.Grid(0, 1, 11);
        var before = CurveTraining.Profile(curve, work, data, ts);
        var epochs = CurveTraining.Train(curve, work, data, new CurveTrainingOptions { Epochs = 20, BatchSize = 16, LearningRate = 0.05, Seed = 3 });
        Assert.Equal(20, epochs.Count);
        Assert.Equal(0.05 * 0.01, epochs[^1].LearningRate, 12);
        var after = CurveTraining.Profile(curve, work, data, ts);
        var point = work.parameters().Select(p => torch.empty_like(p)).ToArray();
        for (int p = 0; p < startA.Length; p++)
        {
            Assert.True(curve.Start[p].equal(startA[p]).all().item<bool>());
            Assert.True(curve.End[p].equal(startB[p]).all().item<bool>());
        }
        curve.WriteAt(0, point);
        for (int p = 0; p < point.Length; p++) Assert.True(point[p].equal(startA[p]).all().item<bool>());
        curve.WriteAt(1, point);
        for (int p = 0; p < point.Length; p++) Assert.True(point[p].equal(startB[p]).all().item<bool>());
        Assert.Equal(before.Loss[0], after.Loss[0]);
        Assert.Equal(before.Loss[^1], after.Loss[^1]);
        Assert.Contains(curve.Control.Zip(control0), c => !c.First.equal(c.Second).all().item<bool>());
        // Training lowers the loss in the curve's middle.
        Assert.True(after.Loss[5] < before.Loss[5], $"{after.Loss[5]} vs {before.Loss[5]}");
    }

    [Fact]
    public void PolyChainTrainingKeepsItsEndsAndPassesThroughTheControlPointAtTheMiddle()
    {
        using var scope = torch.NewDisposeScope();
        using var a = SmallMlp("relu", seed: 1);
        using var b = SmallMlp("relu", seed: 2);
        using var data = ToyData(n: 64);
        using var curve = new Curve(CurveKind.PolyChain, a.parameters().ToArray(), b.parameters().ToArray());
        using var work = Reparametrization.Copy(a);
        CurveTraining.Train(curve, work, data, new CurveTrainingOptions { Epochs = 3, BatchSize = 16, Seed = 1 });
        var point = work.parameters().Select(p => torch.empty_like(p)).ToArray();
        curve.WriteAt(0.5, point);
        for (int p = 0; p < point.Length; p++) Assert.True(point[p].equal(curve.Control[p]).all().item<bool>());
        curve.WriteAt(0, point);
        var pa = a.parameters().ToArray();
        for (int p = 0; p < point.Length; p++) Assert.True(point[p].equal(pa[p]).all().item<bool>());
        // The model is left at θ(½) = θ_C.
        foreach (var (p, c) in work.parameters().Zip(curve.Control)) Assert.True(p.equal(c).all().item<bool>());
    }

    [Fact]
    public void WeightMatchingUndoesAPermutationOfHiddenUnits()
    {
        using var scope = torch.NewDisposeScope();
        using var a = SmallMlp("relu", seed: 1);
        using var data = ToyData();
        using var b = Reparametrization.Copy(a);
        using (torch.no_grad())
        {
            var perm = torch.tensor(new long[] { 3, 0, 4, 1, 2 });
            var w1 = b.get_parameter("fc1.weight")!;
            var b1 = b.get_parameter("fc1.bias")!;
            var w2 = b.get_parameter("fc2.weight")!;
            w1.copy_(w1.index_select(0, perm));
            b1.copy_(b1.index_select(0, perm));
            w2.copy_(w2.index_select(1, perm));
        }
        Assert.False(a.get_parameter("fc1.weight")!.equal(b.get_parameter("fc1.weight")!).all().item<bool>());
        var alignment = WeightMatching.Align(a, b);
        Assert.Equal(5, alignment.UnitsMoved);   // [3,0,4,1,2] moves every unit
        foreach (var ((name, pa), pb) in a.named_parameters().Zip(b.parameters()))
            Assert.True(pa.equal(pb).all().item<bool>(), name);
        Assert.Equal(0, Interpolation.Line(a, b, data, Slices.Grid(0, 1, 5)).Barrier.Max);
        using var lenet = ModelSpec.Create("lenet5", [1, 28, 28], 10, 1);
        using var lenet2 = ModelSpec.Create("lenet5", [1, 28, 28], 10, 2);
        Assert.Contains("mlp models only", Assert.Throws<BasinException>(() => WeightMatching.Align(lenet, lenet2)).Message);
    }
}
