using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>
/// Stochastic gradient descent with optional (Nesterov) momentum, step for step what
/// torch.optim.SGD does: buf ← g on the first step, then buf ← μ·buf + (1−τ)·g;
/// the step is g + μ·buf with Nesterov, buf without; w ← w − lr·step.
/// Weight decay is not here: it is the <see cref="WeightDecay"/> objective term, whose gradient
/// α·w is exactly what torch's weight_decay adds to g before the momentum.
/// </summary>
public sealed record Sgd(double Momentum = 0, bool Nesterov = false, double Dampening = 0) : IUpdateRule
{
    public double Momentum { get; init; } = Check.Fraction(Momentum, "momentum");
    public double Dampening { get; init; } = Check.NonNegative(Dampening, "dampening");
    public bool Nesterov { get; init; } = !Nesterov || (Momentum > 0 && Dampening == 0) ? Nesterov
        : throw new OptionException("nesterov", "Nesterov momentum needs a momentum > 0 and zero dampening");

    public string Name => Momentum == 0 ? "sgd" : Nesterov ? $"sgd(nesterov {Momentum})" : $"sgd(momentum {Momentum})";

    public IUpdater Bind(IReadOnlyList<NamedParameter> parameters) => new Updater(this, parameters.ToArray());

    sealed class Updater : IUpdater
    {
        const string Prefix = "momentum_buffer.";
        readonly Sgd _rule;
        readonly NamedParameter[] _parameters;
        readonly Tensor?[] _buffers;
        readonly Scalar _momentum, _oneMinusDampening;

        public Updater(Sgd rule, NamedParameter[] parameters)
        {
            _rule = rule;
            _parameters = parameters;
            _buffers = new Tensor?[parameters.Length];
            _momentum = rule.Momentum.ToScalar();
            _oneMinusDampening = (1 - rule.Dampening).ToScalar();
        }

        public void Apply(double learningRate)
        {
            using var _ = no_grad();
            using var negLr = (-learningRate).ToScalar();
            bool momentum = _rule.Momentum != 0;
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i].Value;
                using var g = p.grad;
                if (g is null) continue;
                if (!momentum)
                {
                    p.add_(g, negLr);
                    continue;
                }
                var buf = _buffers[i];
                if (buf is null)
                    buf = _buffers[i] = UpdaterState.Keep(g);
                else
                    buf.mul_(_momentum).add_(g, _oneMinusDampening);
                if (_rule.Nesterov)
                {
                    using var step = g.add(buf, _momentum);
                    p.add_(step, negLr);
                }
                else
                {
                    p.add_(buf, negLr);
                }
            }
        }

        public IEnumerable<KeyValuePair<string, Tensor>> State()
        {
            for (int i = 0; i < _parameters.Length; i++)
                if (_buffers[i] is { } b) yield return new(Prefix + _parameters[i].Name, b);
        }

        public void LoadState(IReadOnlyDictionary<string, Tensor> state)
        {
            var known = new HashSet<string>();
            var loaded = new Tensor?[_parameters.Length];
            for (int i = 0; i < _parameters.Length; i++)
            {
                var key = Prefix + _parameters[i].Name;
                known.Add(key);
                // A missing buffer is legitimate: torch creates it at a parameter's first step.
                if (state.ContainsKey(key)) loaded[i] = UpdaterState.Fitting(state, key, _parameters[i].Value, "SGD");
            }
            UpdaterState.RejectUnknown(state, known, "SGD");
            for (int i = 0; i < _buffers.Length; i++)
            {
                _buffers[i]?.Dispose();
                _buffers[i] = loaded[i];
            }
        }

        public void Dispose()
        {
            foreach (var b in _buffers) b?.Dispose();
            _momentum.Dispose();
            _oneMinusDampening.Dispose();
        }
    }
}
