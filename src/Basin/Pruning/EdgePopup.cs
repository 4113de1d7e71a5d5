using System.Text.Json;
using Basin.Native;
using Basin.Training;
using Basin.Training.Catalog;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Pruning;

/// <summary>
/// Edge-popup (Ramanujan et al., "What's Hidden in a Randomly Weighted Neural Network?", 2020): the weights stay at their
/// initial values W₀ and are never trained; every weight matrix gets a score per entry, and the network uses
/// W₀ ⊙ m, m keeping the <see cref="Keep"/> fraction of entries of largest |score| in each layer. Scores learn by the
/// straight-through estimator through |s|: ∂L/∂s = ∂L/∂w ⊙ W₀ ⊙ sign(s), where ∂L/∂w is the gradient of the loss at the
/// masked weights (what backpropagation gives), with SGD and <see cref="Momentum"/> on the scores. Biases and other vectors stay frozen. As
/// an update rule it works with every objective and gradient procedure; scores, W₀ and momentum go into checkpoints.
/// <see cref="Scaled"/> (the default): the paper's scaled initialization on the model's own draw: biases set to 0 (the
/// paper's layers have none) and each weight tensor rescaled so its root mean square is √(2 / (k · fan_in)) (scaled
/// Kaiming). Without it the kept sub-network of a LeNet-5 passes too little signal to learn.
/// </summary>
public sealed record EdgePopup(double Keep, double Momentum = 0.9, bool Scaled = EdgePopup.DefaultScaled) : IUpdateRule
{
    /// <summary>Whether the scaled initialization is used unless said otherwise.</summary>
    public const bool DefaultScaled = true;

    public double Keep { get; init; } = Keep > 0 && Keep <= 1 ? Keep
        : throw new OptionException("popupKeep", $"popupKeep must be in (0, 1], got {Keep}");
    public double Momentum { get; init; } = Check.Fraction(Momentum, "momentum");

    public string Name => $"edge-popup(keep {Keep}, momentum {Momentum}{(Scaled ? ", scaled" : "")})";

    /// <summary>The root mean square of a layer's initial weights under <see cref="Scaled"/>: √(2 / (k · fan_in)).</summary>
    public double ScaledRms(long fanIn) => Math.Sqrt(2.0 / (Keep * fanIn));

    /// <summary>Entries kept of a layer with <paramref name="count"/> weights: round(keep · count), at least 1.</summary>
    public long Kept(long count) => Math.Max(1, (long)Math.Round(Keep * count, MidpointRounding.AwayFromZero));

    public IUpdater Bind(IReadOnlyList<NamedParameter> parameters) => new Updater(this, parameters.ToArray());

    sealed class Updater : IUpdater
    {
        const string ScoresKey = "edge_popup.scores.", InitialKey = "edge_popup.initial.", MomentumKey = "edge_popup.momentum.";
        readonly EdgePopup _rule;
        readonly NamedParameter[] _weights;
        readonly Tensor[] _initial, _scores;
        readonly Tensor?[] _buffers;
        readonly Scalar _momentum;

        public Updater(EdgePopup rule, NamedParameter[] parameters)
        {
            _rule = rule;
            _weights = parameters.Where(p => p.Value.dim() >= 2).ToArray();
            if (_weights.Length == 0) throw new BasinException("edge-popup needs weight matrices or kernels; the model has none");
            _momentum = rule.Momentum.ToScalar();
            _buffers = new Tensor?[_weights.Length];
            _initial = new Tensor[_weights.Length];
            _scores = new Tensor[_weights.Length];
            using var _ = no_grad();
            if (rule.Scaled)
                foreach (var b in parameters.Where(p => p.Value.dim() < 2 && p.Name.EndsWith("bias", StringComparison.Ordinal)))
                    b.Value.zero_();
            for (int i = 0; i < _weights.Length; i++)
            {
                var w = _weights[i].Value;
                long fanIn = w.numel() / w.shape[0];
                if (rule.Scaled)
                {
                    using var squares = w.pow(Scalars.Two);
                    using var meanSquare = squares.mean();
                    using var rms = meanSquare.sqrt();
                    double current = rms.ToDouble();
                    if (!(current > 0))
                        throw new BasinException($"edge-popup: layer {_weights[i].Name} is all zeros; it cannot be rescaled");
                    using var factor = (rule.ScaledRms(fanIn) / current).ToScalar();
                    w.mul_(factor);
                }
                _initial[i] = UpdaterState.Keep(w);   // state lives outside any dispose scope
                // Kaiming-uniform scores, as the paper initializes them: U(−b, b), b = √(6 / fan_in).
                using var bound = Math.Sqrt(6.0 / fanIn).ToScalar();
                using var u = torch.rand(w.shape, dtype: w.dtype);
                using var scores = u.mul(Scalars.Two).sub_(Scalars.One).mul_(bound);
                _scores[i] = UpdaterState.Keep(scores);
                Mask(i);
            }
        }

        /// <summary>w ← W₀ ⊙ m, m the top <see cref="Kept"/> entries of |scores|.</summary>
        void Mask(int i)
        {
            using var scope = torch.NewDisposeScope();
            var flat = _scores[i].abs().flatten();
            var top = flat.topk((int)_rule.Kept(flat.numel())).indexes;
            var mask = torch.zeros_like(flat).index_fill_(0, top, Scalars.One).reshape(_scores[i].shape);
            _weights[i].Value.copy_(_initial[i].mul(mask));
        }

        public void Apply(double learningRate)
        {
            using var _ = no_grad();
            using var negLr = (-learningRate).ToScalar();
            for (int i = 0; i < _weights.Length; i++)
            {
                using var g = _weights[i].Value.grad;
                if (g is null) continue;
                // Straight-through on the mask of |s|: ∂L/∂s = ∂L/∂w ⊙ W₀ ⊙ sign(s) (autograd through the paper's abs).
                using var sign = _scores[i].sign();
                using var scoreGradient = g.mul(_initial[i]).mul_(sign);
                if (_rule.Momentum == 0) _scores[i].add_(scoreGradient, negLr);
                else
                {
                    if (_buffers[i] is { } buf) buf.mul_(_momentum).add_(scoreGradient, Scalars.One);
                    else _buffers[i] = UpdaterState.Keep(scoreGradient);
                    _scores[i].add_(_buffers[i]!, negLr);
                }
                Mask(i);
            }
        }

        public IEnumerable<KeyValuePair<string, Tensor>> State()
        {
            for (int i = 0; i < _weights.Length; i++)
            {
                yield return new(ScoresKey + _weights[i].Name, _scores[i]);
                yield return new(InitialKey + _weights[i].Name, _initial[i]);
                if (_buffers[i] is { } b) yield return new(MomentumKey + _weights[i].Name, b);
            }
        }

        public void LoadState(IReadOnlyDictionary<string, Tensor> state)
        {
            var known = new HashSet<string>();
            for (int i = 0; i < _weights.Length; i++)
            {
                var name = _weights[i].Name;
                known.UnionWith([ScoresKey + name, InitialKey + name, MomentumKey + name]);
                var scores = UpdaterState.Fitting(state, ScoresKey + name, _weights[i].Value, "edge-popup");
                var initial = UpdaterState.Fitting(state, InitialKey + name, _weights[i].Value, "edge-popup");
                _scores[i].Dispose();
                _initial[i].Dispose();
                _scores[i] = scores;
                _initial[i] = initial;
                _buffers[i]?.Dispose();
                _buffers[i] = state.ContainsKey(MomentumKey + name)
                    ? UpdaterState.Fitting(state, MomentumKey + name, _weights[i].Value, "edge-popup") : null;
            }
            UpdaterState.RejectUnknown(state, known, "edge-popup");
        }

        public void Dispose()
        {
            foreach (var t in _scores.Concat(_initial)) t.Dispose();
            foreach (var b in _buffers) b?.Dispose();
            _momentum.Dispose();
        }
    }
}

/// <summary>`--method edge-popup`: train scores over frozen initial weights instead of the weights (<see cref="EdgePopup"/>).</summary>
sealed class EdgePopupEntry : MethodEntry
{
    public override int Order => 100;
    static readonly Setting<double> Keep = Setting.Of("popupKeep", "edge-popup: fraction of each layer's weights kept (0 < k ≤ 1)",
        0.5, (x, key) => x > 0 && x <= 1 ? x : throw new OptionException(key, $"{key} must be in (0, 1], got {x}"));
    static readonly Setting<bool> Scaled = Setting.Of("popupScaled", "edge-popup: the paper's scaled initialization: biases " +
        "set to 0, each layer's initial weights rescaled to root mean square √(2/(k·fan_in)) (false keeps the model's own)",
        EdgePopup.DefaultScaled);

    public override string Name => "edge-popup";
    public override MethodStage Stage => MethodStage.UpdateRule;
    public override string Summary => "edge-popup: learn which frozen initial weights to keep (Ramanujan et al. 2020)";
    public override IReadOnlyList<MethodSetting> Settings => [Keep, Scaled];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context) =>
        recipe with { Update = new EdgePopup(Keep.Value(values, context), recipe.Update is Sgd sgd ? sgd.Momentum : 0,
            Scaled.Value(values, context)) };
}
