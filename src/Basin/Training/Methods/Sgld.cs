using System.Text.Json;
using Basin.Training.Catalog;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>A posterior sample SGLD has just taken: the model's weights after update <paramref name="Step"/> are the sample.</summary>
public sealed record SgldSample(int Index, long Step, IReadOnlyList<NamedParameter> Parameters);

/// <summary>
/// Stochastic gradient Langevin dynamics (docs/definitions.md §10; "The Universality Lens", 2025):
/// θ ← θ − (η/2)·∇U(θ) + N(0, η·T·I), with U = −log prior − Σ_n log p(y_n | x_n, θ) and temperature T (1 samples
/// the posterior, 0 is gradient descent). Basin's objective is a mean over the batch, so ∇U is estimated as
/// <see cref="DatasetSize"/>·∇objective: with cross-entropy plus weight decay α/2·‖θ‖² that is the Gaussian prior
/// of precision N·α. Hence at T = 0 one update is exactly SGD at learning rate η·N/2 (the η/2 convention of
/// Welling &amp; Teh; the noise variance is η·T, the step size η). Pick η ≈ 2·lr_SGD/N.
///
/// After <see cref="BurnIn"/> updates, every <see cref="Thin"/>-th update's weights are a sample, passed to
/// <see cref="OnSample"/> (e.g. to save them as a weights file). The noise comes from torch's global generator,
/// which checkpoints carry, so a resumed chain continues exactly; the update count is the updater's state.
/// </summary>
public sealed record Sgld(double Temperature = 1, long DatasetSize = 1, long BurnIn = 0, long Thin = 1) : IUpdateRule
{
    public double Temperature { get; init; } = Check.NonNegative(Temperature, "temperature");
    public long DatasetSize { get; init; } = Check.AtLeast(DatasetSize, 1, "datasetSize");
    public long BurnIn { get; init; } = Check.AtLeast(BurnIn, 0, "burnIn");
    public long Thin { get; init; } = Check.AtLeast(Thin, 1, "thin");

    /// <summary>Called after each collected sample's update, on the training thread.</summary>
    public Action<SgldSample>? OnSample { get; init; }

    public string Name => $"sgld(T {Temperature})";

    public IUpdater Bind(IReadOnlyList<NamedParameter> parameters) => new Updater(this, parameters.ToArray());

    sealed class Updater(Sgld rule, NamedParameter[] parameters) : IUpdater
    {
        const string StepsKey = "sgld.steps", SamplesKey = "sgld.samples";
        long _steps, _samples;

        public void Apply(double learningRate)
        {
            using (no_grad())
            {
                double drift = -learningRate / 2 * rule.DatasetSize;
                double noise = Math.Sqrt(learningRate * rule.Temperature);
                using var scope = NewDisposeScope();
                using var driftScalar = drift.ToScalar();
                using var noiseScalar = noise.ToScalar();
                foreach (var p in parameters)
                {
                    var w = p.Value;
                    var g = w.grad;
                    if (g is not null) w.add_(g, driftScalar);
                    // Every parameter diffuses, with or without a gradient (the prior and likelihood are flat there).
                    if (noise > 0) w.add_(randn_like(w), noiseScalar);
                }
            }
            _steps++;
            if (_steps > rule.BurnIn && (_steps - rule.BurnIn) % rule.Thin == 0)
            {
                rule.OnSample?.Invoke(new SgldSample((int)_samples, _steps, parameters));
                _samples++;
            }
        }

        public IEnumerable<KeyValuePair<string, Tensor>> State()
        {
            yield return new(StepsKey, tensor(_steps));
            yield return new(SamplesKey, tensor(_samples));
        }

        public void LoadState(IReadOnlyDictionary<string, Tensor> state)
        {
            foreach (var key in state.Keys)
                if (key is not (StepsKey or SamplesKey)) throw new BasinException($"SGLD state has an unknown entry '{key}'");
            _steps = state.TryGetValue(StepsKey, out var s) ? s.ToInt64() : 0;
            _samples = state.TryGetValue(SamplesKey, out var n) ? n.ToInt64() : 0;
        }

        public void Dispose() { }
    }
}

/// <summary>SGLD in the method catalog: --temperature, --burn-in, --thin; the step size is 2·lr/N.</summary>
sealed class SgldEntry : MethodEntry
{
    public override int Order => 60;
    static readonly Setting<double> Temperature = Setting.Of("temperature", "SGLD: temperature T ≥ 0 (1: posterior, 0: gradient descent)",
        1.0, Check.NonNegative);
    static readonly Setting<long> BurnIn = Setting.Derived("burnIn", "SGLD: updates before samples are kept", c => c.TotalSteps / 2,
        "half the run", (x, key) => Check.AtLeast(x, 0, key));
    static readonly Setting<long?> Thin = Setting.Derived<long?>("thin", "SGLD: keep every N-th update after burn-in", _ => null,
        "about 10 samples", (x, key) => x is { } n ? Check.AtLeast(n, 1, key) : null);

    public override string Name => "sgld";
    public override MethodStage Stage => MethodStage.UpdateRule;
    public override string Summary => "stochastic gradient Langevin dynamics: samples of the posterior (Welling & Teh 2011)";
    public override IReadOnlyList<MethodSetting> Settings => [Temperature, BurnIn, Thin];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context)
    {
        long burnIn = BurnIn.Value(values, context);
        long thin = Thin.Value(values, context) ?? Math.Max(1, (context.TotalSteps - burnIn) / 10);   // about 10 samples
        var rule = new Sgld(Temperature.Value(values, context), context.TrainCount, burnIn, thin);
        return recipe with { Update = rule, LearningRate = 2 * recipe.LearningRate / context.TrainCount };
    }
}
