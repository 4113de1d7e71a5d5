using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>
/// RMSProp (Tieleman &amp; Hinton's lecture notes; the WGAN paper's optimizer), step for step what torch.optim.RMSprop
/// does without momentum or centering: v ← α·v + (1−α)·g², then w ← w − lr·g / (√v + ε).
/// </summary>
public sealed record RmsProp(double Alpha = 0.99, double Epsilon = 1e-8) : IUpdateRule
{
    public double Alpha { get; init; } = Check.Fraction(Alpha, "alpha");
    public double Epsilon { get; init; } = Check.NonNegative(Epsilon, "epsilon");

    public string Name => $"rmsprop(α {Alpha})";

    public IUpdater Bind(IReadOnlyList<NamedParameter> parameters) => new Updater(this, parameters.ToArray());

    sealed class Updater : IUpdater
    {
        const string StepKey = "step", AverageKey = "square_avg.";
        readonly NamedParameter[] _parameters;
        readonly Tensor[] _squareAverage;
        readonly Scalar _alpha, _oneMinusAlpha, _epsilon;
        long _step;

        public Updater(RmsProp rule, NamedParameter[] parameters)
        {
            _parameters = parameters;
            _squareAverage = new Tensor[parameters.Length];
            using (no_grad())
                for (int i = 0; i < parameters.Length; i++)
                    _squareAverage[i] = zeros_like(parameters[i].Value).DetachFromDisposeScope();
            _alpha = rule.Alpha.ToScalar();
            _oneMinusAlpha = (1 - rule.Alpha).ToScalar();
            _epsilon = rule.Epsilon.ToScalar();
        }

        public void Apply(double learningRate)
        {
            using var _ = no_grad();
            _step++;
            using var negRate = (-learningRate).ToScalar();
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i].Value;
                using var g = p.grad;
                if (g is null) continue;
                _squareAverage[i].mul_(_alpha).addcmul_(g, g, _oneMinusAlpha);
                using var denominator = _squareAverage[i].sqrt();
                denominator.add_(_epsilon, Scalars.One);
                p.addcdiv_(g, denominator, negRate);
            }
        }

        public IEnumerable<KeyValuePair<string, Tensor>> State()
        {
            yield return new(StepKey, tensor(_step));
            for (int i = 0; i < _parameters.Length; i++)
                yield return new(AverageKey + _parameters[i].Name, _squareAverage[i]);
        }

        public void LoadState(IReadOnlyDictionary<string, Tensor> state)
        {
            if (!state.TryGetValue(StepKey, out var stepTensor) || stepTensor.dtype != ScalarType.Int64 || stepTensor.numel() != 1)
                throw new BasinException("RMSProp state has no int64 'step'");
            var known = new HashSet<string> { StepKey };
            var averages = new Tensor[_parameters.Length];
            for (int i = 0; i < _parameters.Length; i++)
            {
                known.Add(AverageKey + _parameters[i].Name);
                averages[i] = UpdaterState.Fitting(state, AverageKey + _parameters[i].Name, _parameters[i].Value, "RMSProp");
            }
            UpdaterState.RejectUnknown(state, known, "RMSProp");
            for (int i = 0; i < _parameters.Length; i++)
            {
                _squareAverage[i].Dispose();
                _squareAverage[i] = averages[i];
            }
            _step = stepTensor.ToInt64();
        }

        public void Dispose()
        {
            foreach (var t in _squareAverage) t.Dispose();
            _alpha.Dispose();
            _oneMinusAlpha.Dispose();
            _epsilon.Dispose();
        }
    }
}
