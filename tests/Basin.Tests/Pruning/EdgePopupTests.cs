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
        // The paper's code: w = W0 ⊙ m(|s|), the gradient passed straight through the top-k of |s| and then through
        // abs, i.e. w = W0 ⊙ (m + |s| − sg(|s|)): autograd's ∂L/∂s equals ∂L/∂w ⊙ W0 ⊙ sign(s), the rule edge-popup applies.
        torch.manual_seed(1);
        using var w0 = torch.randn(3, 4, dtype: ScalarType.Float64);
        using var s = torch.randn(3, 4, dtype: ScalarType.Float64).requires_grad_();
        using var x = torch.randn(5, 4, dtype: ScalarType.Float64);
        using var m = TopKMask(s.detach(), 6);
        using var w = w0.mul(m).detach().requires_grad_();
        using var lossW = x.matmul(w.t()).tanh().sum();
        lossW.backward();
        using var wEff = w0.mul(m.add(s.abs()).sub(s.abs().detach()));
        using var lossS = x.matmul(wEff.t()).tanh().sum();
        lossS.backward();
        using var expected = w.grad!.mul(w0).mul(s.detach().sign());
        Assert.True(s.grad!.allclose(expected, rtol: 0, atol: 1e-12));
        Assert.True(s.detach().lt(0.0.ToScalar()).any().item<bool>());      // the sign matters: some scores are negative
    }

    [Fact]
    public void OneStepMovesTheScoresBySgdAndKeepsTheTopFractionOfTheFrozenWeights()
    {
        torch.manual_seed(3);
        using var layer = nn.Linear(5, 4);
        layer.to(ScalarType.Float64);
        using var w0 = layer.weight!.detach().clone();
        using var b0 = layer.bias!.detach().clone();
        var rule = new EdgePopup(Keep: 0.3, Momentum: 0, Scaled: false);
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
        using var s1 = s0.sub(g.mul(w0).mul(s0.sign()).mul(0.5.ToScalar()));
        var after = updater.State().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.True(after["edge_popup.scores.weight"].allclose(s1, rtol: 0, atol: 1e-15));
        using var m1 = TopKMask(s1, 6);
        Basin.Tests.Training.TensorAssert.BitIdentical(w0.mul(m1), layer.weight!, "masked weight after the step");
        Assert.Equal(6, layer.weight!.ne(0.0.ToScalar()).sum().item<long>());
        Basin.Tests.Training.TensorAssert.BitIdentical(b0, layer.bias!, "bias");                                  // biases stay frozen
    }

    [Fact]
    public void TheScaledInitializationZeroesTheBiasesAndRescalesEachLayerToTheKaimingScaleOverK()
    {
        torch.manual_seed(5);
        using var net = nn.Sequential(("a", nn.Linear(5, 4)), ("b", nn.Linear(4, 3)));
        net.to(ScalarType.Float64);
        var parameters = NamedParameter.Of(net);
        var before = parameters.ToDictionary(p => p.Name, p => p.Value.detach().clone());
        var rule = new EdgePopup(Keep: 0.5, Momentum: 0, Scaled: true);
        using var updater = rule.Bind(parameters);
        var state = updater.State().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (name, fanIn, kept) in new[] { ("a.weight", 5, 10), ("b.weight", 4, 6) })
        {
            var w0 = before[name];
            double rms = Math.Sqrt(w0.square().mean().ToDouble());
            Assert.Equal(Math.Sqrt(2.0 / (0.5 * fanIn)), rule.ScaledRms(fanIn), 15);
            using var expected = w0.mul((rule.ScaledRms(fanIn) / rms).ToScalar());
            var initial = state["edge_popup.initial." + name];
            Assert.True(initial.allclose(expected, rtol: 0, atol: 1e-14), $"{name}: W0 is not the draw rescaled");
            Assert.Equal(rule.ScaledRms(fanIn), Math.Sqrt(initial.square().mean().ToDouble()), 12);
            using var m = TopKMask(state["edge_popup.scores." + name], kept);
            var live = parameters.Single(p => p.Name == name).Value;
            Basin.Tests.Training.TensorAssert.BitIdentical(initial.mul(m), live, $"{name}: masked scaled weight");
        }
        foreach (var bias in parameters.Where(p => p.Name.EndsWith("bias")))
            Assert.Equal(0, bias.Value.count_nonzero().item<long>());
        // The scores are drawn as without scaling: the same generator state gives the same scores.
        torch.manual_seed(5);
        using var plain = nn.Sequential(("a", nn.Linear(5, 4)), ("b", nn.Linear(4, 3)));
        plain.to(ScalarType.Float64);
        using var plainUpdater = new EdgePopup(Keep: 0.5, Momentum: 0, Scaled: false).Bind(NamedParameter.Of(plain));
        var plainState = plainUpdater.State().ToDictionary(kv => kv.Key, kv => kv.Value);
        Basin.Tests.Training.TensorAssert.BitIdentical(plainState["edge_popup.scores.a.weight"], state["edge_popup.scores.a.weight"],
            "scores");
        Assert.Equal("edge-popup(keep 0.5, momentum 0, scaled)", rule.Name);
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
            "--epochs", "3", "--batch-size", "32", "--method", "edge-popup", "--popup-keep", "0.25", "--popup-scaled", "false",
            "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("edge-popup with --popup-scaled false keeps the model's own initialization", r.Stderr);
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
        var scaled = CliRunner.Run(dir, null, "train", "--dataset", "moons", "--model", "mlp:16", "--samples", "128", "--test-samples",
            "64", "--epochs", "1", "--batch-size", "32", "--method", "edge-popup", "--popup-keep", "0.25", "--threads", "1",
            "--json");   // scaled by default
        Assert.True(scaled.ExitCode == 0, scaled.ToString());
        var scaledId = System.Text.Json.JsonDocument.Parse(scaled.Stdout).RootElement.GetProperty("runId").GetString()!;
        using (var sw = Basin.IO.SafeTensors.Load(Path.Combine(dir, "runs", scaledId, "weights.safetensors")))
            foreach (var (name, b) in sw.Tensors.Where(t => t.Key.EndsWith("bias")))
                Assert.True(b.count_nonzero().item<long>() == 0, $"{name}: the scaled initialization leaves a bias non-zero");
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "train", "--dataset", "moons", "--method", "edge-popup", "--popup-keep", "0"),
            "--popup-keep must be in (0, 1], got 0");
    }
}

/// <summary>Edge-popup through the trainer, which seeds torch's global generator: alone, as the trainer's own tests.</summary>
[Collection("torch global generator")]
public class EdgePopupResumeTests
{
    [Fact]
    public void AScaledRunResumedFromItsCheckpointEndsBitForBitWhereTheStraightRunEnds()
    {
        var recipe = Recipe.Sgd(0.1, momentum: 0.9) with { Update = new EdgePopup(0.4, 0.9, Scaled: true) };
        var config = new TrainingConfig(2, BatchSize: 10, Seed: 11) { Threads = 1 };
        using var train = Basin.Tests.Training.TinyData.Make(64, seed: 2);
        torch.manual_seed(5);                        // the scores are drawn from the global generator when the run starts
        using var straight = new Basin.Tests.Training.TinyMlp(seed: 1);
        new Trainer(recipe, config).Run(straight, train);

        var path = Path.Combine(CliRunner.TempDir(), "run.safetensors");
        using var cts = new CancellationTokenSource();
        var progress = new Basin.Tests.Training.Callback<TrainingEvent>(e => { if (e is BatchDone { Step: 10 }) cts.Cancel(); });
        torch.manual_seed(5);
        using (var first = new Basin.Tests.Training.TinyMlp(seed: 1))
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer(recipe, config with { CheckpointPath = path }).Run(first, train, null, progress, cts.Token));
        torch.manual_seed(12345);                    // as in a fresh process: only the checkpoint brings the state back
        using var resumed = new Basin.Tests.Training.TinyMlp(seed: 99);
        new Trainer(recipe, config with { CheckpointPath = path, Resume = true }).Run(resumed, train);

        var expected = straight.state_dict();
        var actual = resumed.state_dict();
        foreach (var (name, t) in expected) Basin.Tests.Training.TensorAssert.BitIdentical(t, actual[name], name);
        foreach (var (name, t) in expected.Where(kv => kv.Key.EndsWith("bias")))
            Assert.True(t.count_nonzero().item<long>() == 0, $"{name} is not zero");
        Assert.Equal(Math.Round(0.4 * 16 * 20), expected["fc1.weight"].count_nonzero().item<long>());
    }
}
