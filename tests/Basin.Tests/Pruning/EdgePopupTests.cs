using Basin.Pruning;
using Basin.Training;
using Basin.Training.Catalog;
using Basin.Tests.Cli;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Pruning;

public class EdgePopupTests
{
    static Tensor TopKMask(Tensor scores, long k)
    {
        var flat = scores.abs().flatten();
        var idx = flat.topk((int)k).indexes;
        return torch.zeros_like(flat).index_fill_(0, idx, 1.0.ToScalar()).reshape(scores.shape);
    }

    [Fact]
    public void TheStraightThroughScoreGradientIsTheWeightGradientTimesTheInitialWeights()
    {
        // L(w) with w = W0 ⊙ (m + s − sg(s)): autograd's ∂L/∂s equals ∂L/∂w ⊙ W0, the rule edge-popup applies.
        torch.manual_seed(1);
        using var w0 = torch.randn(3, 4, dtype: ScalarType.Float64);
        using var s = torch.randn(3, 4, dtype: ScalarType.Float64).requires_grad_();
        using var x = torch.randn(5, 4, dtype: ScalarType.Float64);
        using var m = TopKMask(s.detach(), 6);
        using var w = w0.mul(m.add(s).sub(s.detach())).detach().requires_grad_();
        using var lossW = x.matmul(w.t()).tanh().sum();
        lossW.backward();
        using var wEff = w0.mul(m.add(s).sub(s.detach()));
        using var lossS = x.matmul(wEff.t()).tanh().sum();
        lossS.backward();
        using var expected = w.grad!.mul(w0);
        Assert.True(s.grad!.allclose(expected, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void OneStepMovesTheScoresBySgdAndKeepsTheTopFractionOfTheFrozenWeights()
    {
        torch.manual_seed(3);
        using var layer = nn.Linear(5, 4);
        layer.to(ScalarType.Float64);
        using var w0 = layer.weight!.detach().clone();
        using var b0 = layer.bias!.detach().clone();
        var rule = new EdgePopup(Keep: 0.3, Momentum: 0);
        using var updater = rule.Bind(NamedParameter.Of(layer));
        Assert.Equal(6, rule.Kept(20));                                     // round(0.3 · 20)
        var state = updater.State().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var s0 = state["edge_popup.scores.weight"];
        Basin.Tests.Training.TensorAssert.BitIdentical(w0, state["edge_popup.initial.weight"], "W0");
        using (var m0 = TopKMask(s0, 6)) Basin.Tests.Training.TensorAssert.BitIdentical(w0.mul(m0), layer.weight!, "masked weight");

        using var g = torch.randn(4, 5, dtype: ScalarType.Float64);
        layer.weight!.grad = g.clone();
        layer.bias!.grad = torch.ones(4, dtype: ScalarType.Float64);
        updater.Apply(0.5);
        using var s1 = s0.sub(g.mul(w0).mul(0.5.ToScalar()));
        var after = updater.State().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.True(after["edge_popup.scores.weight"].allclose(s1, rtol: 0, atol: 1e-15));
        using var m1 = TopKMask(s1, 6);
        Basin.Tests.Training.TensorAssert.BitIdentical(w0.mul(m1), layer.weight!, "masked weight after the step");
        Assert.Equal(6, layer.weight!.ne(0.0.ToScalar()).sum().item<long>());
        Basin.Tests.Training.TensorAssert.BitIdentical(b0, layer.bias!, "bias");                                  // biases stay frozen
    }

    [Fact]
    public void SettingsAreCheckedAndTwoUpdateRulesAreRefused()
    {
        Assert.Throws<OptionException>(() => new EdgePopup(0));
        Assert.Throws<OptionException>(() => new EdgePopup(1.5));
        var e = Assert.Throws<OptionException>(() => MethodCatalog.Parse("edge-popup+sgld"));
        Assert.Contains("both decide how a step is taken", e.Message);
    }

    [Fact]
    public void TrainingWithEdgePopupKeepsTheFractionOfEveryLayerAndTheInitialValues()
    {
        var dir = CliRunner.TempDir();
        var r = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:16", "--samples", "128", "--test-samples", "64",
            "--epochs", "3", "--batch-size", "32", "--method", "edge-popup", "--popup-keep", "0.25", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var id = System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement.GetProperty("runId").GetString()!;
        using var weights = Basin.IO.SafeTensors.Load(Path.Combine(dir, "runs", id, "weights.safetensors"));
        using var model = Basin.Models.ModelSpec.Create("mlp:16", [2], 2, 1);   // the run's initialization (seed 1)
        var initial = model.state_dict();
        foreach (var (name, w) in weights.Tensors.Where(t => t.Value.dim() == 2))
        {
            long kept = w.ne(0.0.ToScalar()).sum().item<long>();
            Assert.Equal(Math.Max(1, (long)Math.Round(0.25 * w.numel(), MidpointRounding.AwayFromZero)), kept);
            using var same = w.eq(initial[name]).logical_or(w.eq(0.0.ToScalar()));
            Assert.True(same.all().item<bool>(), $"{name}: a kept weight moved from its initial value");
        }
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "train", "--dataset", "moons", "--method", "edge-popup", "--popup-keep", "0"),
            "--popup-keep must be in (0, 1], got 0");
    }
}
