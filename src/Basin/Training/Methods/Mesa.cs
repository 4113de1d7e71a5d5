using System.Text.Json;
using Basin.Training.Catalog;
using Basin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// MESA (memory-efficient variant in "Sharpness-Aware Training for Free", 2022): the trajectory loss
/// (<see cref="TrajectoryLoss"/>) against the logits of a teacher whose weights are an exponential moving average
/// of the student's: ema ← decay·ema + (1 − decay)·w once per step, at the weights the step starts from (the
/// average starts at the first step's weights). One extra forward pass (no backward) per step. Active from
/// epoch <see cref="StartEpoch"/> on; the average is kept from the first step.
///
/// The teacher is a second copy of the network: the student's weights cannot be swapped in place, because its
/// forward pass is already in the autograd graph when the term is computed. By default it is rebuilt from the
/// model's spec (<see cref="ModelSpec"/>); other models pass <c>teacher</c>, a factory for an untrained copy.
/// Buffers (batch-norm statistics) are copied from the student. The average is checkpointed by parameter name.
/// </summary>
public sealed class Mesa : IObjectiveTerm, IStatefulStage, IDisposable
{
    readonly Func<Classifier, Tensor, Classifier>? _teacherFactory;
    Classifier? _teacher;
    Dictionary<string, Tensor>? _average;          // by parameter name; the teacher's parameters once it exists
    (Tensor Teacher, Tensor Student)[]? _buffers;
    bool _started;
    long _lastStep = -1;

    /// <param name="decay">No default here: a run's default depends on its batches per epoch (the catalog's).</param>
    /// <param name="startEpoch">No default here: a run's default depends on its length (the catalog's ⌊0.3·epochs⌋).</param>
    /// <param name="teacher">Builds an architecture twin of the student (given the student and a batch of inputs); null: from the
    /// spec.</param>
    public Mesa(double decay, int startEpoch, double lambda = MesaEntry.DefaultLambda, double tau = Saf.DefaultTau,
        Func<Classifier, Tensor, Classifier>? teacher = null)
    {
        if (!(decay >= 0 && decay < 1)) throw new BasinException($"MESA decay must be in [0, 1), got {decay}");
        TrajectoryLoss.CheckOptions("MESA", lambda, tau);
        if (startEpoch < 0) throw new BasinException($"MESA start epoch must be ≥ 0, got {startEpoch}");
        Decay = decay;
        Lambda = lambda;
        Tau = tau;
        StartEpoch = startEpoch;
        _teacherFactory = teacher;
    }

    public double Decay { get; }
    public double Lambda { get; }
    public double Tau { get; }
    public int StartEpoch { get; }

    public string Name => "mesa";

    /// <summary>The averaged weights by parameter name (null before the first step).</summary>
    public IReadOnlyDictionary<string, Tensor>? Average => _average;

    public Tensor Compute(ObjectiveContext context)
    {
        var logits = context.Logits;
        var teacher = Teacher(context);
        if (context.Position.Step != _lastStep)
        {
            UpdateAverage(context);
            _lastStep = context.Position.Step;
        }
        if (context.Position.Epoch < StartEpoch) return zeros(1, dtype: logits.dtype, device: logits.device).sum();
        Tensor reference;
        using (no_grad())
        {
            teacher.train(context.Model.training);
            reference = teacher.forward(context.Batch.Inputs);
        }
        return TrajectoryLoss.Compute(logits, reference, Lambda, Tau);
    }

    // The average lives in the teacher's own parameters, so the teacher needs no copying before its forward pass.
    void UpdateAverage(ObjectiveContext context)
    {
        using var _ = no_grad();
        bool start = !_started;
        foreach (var p in context.Parameters)
        {
            if (!_average!.TryGetValue(p.Name, out var a))
                throw new BasinException($"MESA's average has no entry for parameter '{p.Name}'");
            if (!a.shape.SequenceEqual(p.Value.shape))
                throw new BasinException($"MESA's average for '{p.Name}' has shape [{string.Join(",", a.shape)}], the parameter " +
                    $"[{string.Join(",", p.Value.shape)}]");
            if (start) a.copy_(p.Value);
            else
            {
                using var decay = Decay.ToScalar();
                using var rest = (1 - Decay).ToScalar();
                a.mul_(decay).add_(p.Value.detach(), rest);
            }
        }
        foreach (var (teacherBuffer, studentBuffer) in _buffers!) teacherBuffer.copy_(studentBuffer);
        _started = true;
    }

    Classifier Teacher(ObjectiveContext context)
    {
        if (_teacher is not null) return _teacher;
        var model = context.Model;
        Classifier twin;
        if (_teacherFactory is not null) twin = _teacherFactory(model, context.Batch.Inputs);
        else
        {
            try { twin = ModelSpec.Create(model.Spec, context.Batch.Inputs.shape[1..], model.ClassCount, seed: 0); }
            catch (BasinException e) { throw new BasinException($"MESA cannot build a teacher for {model.Spec} from its spec " +
                $"({e.Message}); pass a teacher factory"); }
        }
        twin.to(context.Logits.device.type, context.Logits.device.index);
        var parameters = twin.named_parameters().ToDictionary(np => np.name, np => np.parameter);
        foreach (var p in parameters.Values) p.requires_grad = false;
        foreach (var p in context.Parameters)
            if (!parameters.TryGetValue(p.Name, out var t) || !t.shape.SequenceEqual(p.Value.shape))
                throw new BasinException($"MESA's teacher does not match the model at '{p.Name}'");
        using (no_grad())
        {
            // A resumed average (loaded before the teacher existed) moves into the teacher.
            if (_average is not null)
                foreach (var (name, t) in _average)
                {
                    if (!parameters.TryGetValue(name, out var dst) || !dst.shape.SequenceEqual(t.shape))
                        throw new BasinException($"MESA's saved average does not fit the model at '{name}'");
                    dst.copy_(t);
                    t.Dispose();
                }
        }
        _average = context.Parameters.ToDictionary(p => p.Name, p => (Tensor)parameters[p.Name]);
        var studentBuffers = model.named_buffers().ToDictionary(nb => nb.name, nb => nb.buffer);
        _buffers = twin.named_buffers().Where(nb => studentBuffers.ContainsKey(nb.name))
            .Select(nb => (nb.buffer, studentBuffers[nb.name])).ToArray();
        _teacher = twin;
        return twin;
    }

    public IEnumerable<KeyValuePair<string, Tensor>> State()
    {
        if (_average is null) yield break;
        foreach (var (name, t) in _average) yield return new("ema." + name, t);
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var loaded = new Dictionary<string, Tensor>();
        foreach (var (key, t) in state)
        {
            if (!key.StartsWith("ema.", StringComparison.Ordinal)) throw new BasinException($"MESA state has an unknown entry '{key}'");
            loaded[key[4..]] = t;
        }
        using var _ = no_grad();
        if (_teacher is not null)
        {
            foreach (var (name, t) in loaded)
            {
                if (!_average!.TryGetValue(name, out var dst) || !dst.shape.SequenceEqual(t.shape))
                    throw new BasinException($"MESA's saved average does not fit the model at '{name}'");
                dst.copy_(t);
            }
        }
        else
        {
            DisposeAverage();
            _average = loaded.Count > 0 ? loaded.ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope()) : null;
        }
        // An empty state starts a fresh average at the next step; a loaded one moves on from where it was.
        _started = loaded.Count > 0;
        _lastStep = -1;
    }

    void DisposeAverage()
    {
        if (_average is null || _teacher is not null) return;
        foreach (var t in _average.Values) t.Dispose();
        _average = null;
    }

    public void Dispose()
    {
        DisposeAverage();
        _teacher?.Dispose();
        _teacher = null;
        _average = null;
    }
}

/// <summary>MESA in the method catalog: --mesa-decay, --saf-lambda (0.8 here), --saf-tau, --saf-start.</summary>
internal sealed class MesaEntry : MethodEntry
{
    public override int Order => 50;
    /// <summary>MESA's λ in the SAF paper.</summary>
    public const double DefaultLambda = 0.8;

    static readonly Setting<double> Decay = Setting.Derived("mesaDecay", "MESA: EMA decay of the teacher's weights in [0, 1)",
        c => Math.Clamp(1 - 1.0 / c.BatchesPerEpoch, 0.9, 0.9998), "1 − 1/batches per epoch, within [0.9, 0.9998]", Check.Fraction);
    static readonly Setting<double> Lambda = SafEntry.Lambda with { Default = _ => DefaultLambda, DefaultDescription = "0.8" };

    public override string Name => "mesa";
    public override MethodStage Stage => MethodStage.ObjectiveTerm;
    public override string Summary => "memory-efficient SAF: a KL term to an EMA teacher (Du et al. 2022)";
    public override IReadOnlyList<MethodSetting> Settings => [Decay, Lambda, SafEntry.Tau, SafEntry.Start];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context) =>
        recipe.With(new Mesa(Decay.Value(values, context), SafEntry.Start.Value(values, context), Lambda.Value(values, context),
            SafEntry.Tau.Value(values, context)));
}
