using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>
/// Adam ("Adam: A Method for Stochastic Optimization"), step for step what torch.optim.Adam
/// (amsgrad off) does: m ← β₁·m + (1−β₁)·g, v ← β₂·v + (1−β₂)·g², then
/// w ← w − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε). Weight decay is the
/// <see cref="WeightDecay"/> objective term (equal to torch's coupled weight_decay).
/// torch ≥ 2 writes the first-moment update as lerp(m, g, 1−β₁), equal up to the last bit; TorchSharp
/// offers lerp_ only with a tensor weight, whose dtype would have to follow every parameter's.
/// </summary>
public sealed record Adam(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8) : IUpdateRule
{
    public double Beta1 { get; init; } = Check.Fraction(Beta1, "beta1");
    public double Beta2 { get; init; } = Check.Fraction(Beta2, "beta2");
    public double Epsilon { get; init; } = Check.NonNegative(Epsilon, "epsilon");

    public string Name => $"adam(β1 {Beta1}, β2 {Beta2})";

    public IUpdater Bind(IReadOnlyList<NamedParameter> parameters) => new Updater(this, parameters.ToArray());

    sealed class Updater : IUpdater
    {
        const string StepKey = "step";
        readonly Adam _rule;
        readonly NamedParameter[] _parameters;
        readonly Tensor[] _expAvg, _expAvgSq;
        readonly Scalar _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _epsilon;
        long _step;

        public Updater(Adam rule, NamedParameter[] parameters)
        {
            _rule = rule;
            _parameters = parameters;
            _expAvg = new Tensor[parameters.Length];
            _expAvgSq = new Tensor[parameters.Length];
            using (no_grad())
            {
                for (int i = 0; i < parameters.Length; i++)
                {
                    _expAvg[i] = zeros_like(parameters[i].Value).DetachFromDisposeScope();
                    _expAvgSq[i] = zeros_like(parameters[i].Value).DetachFromDisposeScope();
                }
            }
            _beta1 = rule.Beta1.ToScalar();
            _oneMinusBeta1 = (1 - rule.Beta1).ToScalar();
            _beta2 = rule.Beta2.ToScalar();
            _oneMinusBeta2 = (1 - rule.Beta2).ToScalar();
            _epsilon = rule.Epsilon.ToScalar();
        }

        public void Apply(double learningRate)
        {
            using var _ = no_grad();
            _step++;
            double biasCorrection1 = 1 - Math.Pow(_rule.Beta1, _step);
            double biasCorrection2 = 1 - Math.Pow(_rule.Beta2, _step);
            using var negStepSize = (-(learningRate / biasCorrection1)).ToScalar();
            using var biasCorrection2Sqrt = Math.Sqrt(biasCorrection2).ToScalar();
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i].Value;
                using var g = p.grad;
                if (g is null) continue;
                _expAvg[i].mul_(_beta1).add_(g, _oneMinusBeta1);
                _expAvgSq[i].mul_(_beta2).addcmul_(g, g, _oneMinusBeta2);
                using var denom = _expAvgSq[i].sqrt();
                denom.div_(biasCorrection2Sqrt).add_(_epsilon, Scalars.One);
                p.addcdiv_(_expAvg[i], denom, negStepSize);
            }
        }

        public IEnumerable<KeyValuePair<string, Tensor>> State()
        {
            // A fresh tensor: it belongs to the caller's dispose scope (checkpoints are written inside one).
            yield return new(StepKey, tensor(_step));
            for (int i = 0; i < _parameters.Length; i++)
            {
                yield return new("exp_avg." + _parameters[i].Name, _expAvg[i]);
                yield return new("exp_avg_sq." + _parameters[i].Name, _expAvgSq[i]);
            }
        }

        public void LoadState(IReadOnlyDictionary<string, Tensor> state)
        {
            if (!state.TryGetValue(StepKey, out var stepTensor) || stepTensor.dtype != ScalarType.Int64 || stepTensor.numel() != 1)
                throw new BasinException("Adam state has no int64 'step'");
            var known = new HashSet<string> { StepKey };
            var m = new Tensor[_parameters.Length];
            var v = new Tensor[_parameters.Length];
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i];
                known.Add("exp_avg." + p.Name);
                known.Add("exp_avg_sq." + p.Name);
                m[i] = UpdaterState.Fitting(state, "exp_avg." + p.Name, p.Value, "Adam");
                v[i] = UpdaterState.Fitting(state, "exp_avg_sq." + p.Name, p.Value, "Adam");
            }
            UpdaterState.RejectUnknown(state, known, "Adam");
            for (int i = 0; i < _parameters.Length; i++)
            {
                _expAvg[i].Dispose();
                _expAvgSq[i].Dispose();
                _expAvg[i] = m[i];
                _expAvgSq[i] = v[i];
            }
            _step = stepTensor.ToInt64();
        }

        public void Dispose()
        {
            foreach (var t in _expAvg) t.Dispose();
            foreach (var t in _expAvgSq) t.Dispose();
            _beta1.Dispose();
            _oneMinusBeta1.Dispose();
            _beta2.Dispose();
            _oneMinusBeta2.Dispose();
            _epsilon.Dispose();
        }
    }
}
