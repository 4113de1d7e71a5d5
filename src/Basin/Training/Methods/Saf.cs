using System.Text.Json;
using Basin.Training.Catalog;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// SAF ("Sharpness-Aware Training for Free", 2022): the trajectory loss (<see cref="TrajectoryLoss"/>) against the
/// logits each training example received <see cref="Lag"/> (Ẽ) epochs earlier. They live in a memory bank
/// [N, Ẽ+1, C] keyed by the example's index in the training set (Batch.Indices), so shuffling does not matter:
/// in epoch e the logits of the forward pass are written to slot e mod (Ẽ+1) and the reference is read from
/// slot (e−Ẽ) mod (Ẽ+1). The term is active from epoch <see cref="StartEpoch"/> (0-based) on.
///
/// Choices the paper leaves open: each slot also records the epoch it was written in, and an example whose
/// slot was not written in epoch e−Ẽ (early epochs, or a run whose order skipped it) contributes nothing to
/// the term; only the first evaluation of an example in a step is recorded (SAM's second pass at w + e, for
/// example, is not). The bank and its epoch stamps are checkpointed (IStatefulStage), so a resumed run
/// continues exactly; a bank for a different number of examples is refused.
/// </summary>
public sealed class Saf : IObjectiveTerm, IStatefulStage
{
    const string BankKey = "bank", EpochsKey = "epochs", StepsKey = "steps";
    Tensor? _bank;        // [N, Ẽ+1, C] float32: logits
    Tensor? _epochs;      // [N, Ẽ+1] int64: epoch each slot was written in (−1: never)
    Tensor? _steps;       // [N] int64: last step an example's logits were recorded in (−1: never)

    /// <summary>The SAF paper's λ, τ and lag Ẽ.</summary>
    public const double DefaultLambda = 0.3, DefaultTau = 5;
    public const int DefaultLag = 2;

    /// <param name="startEpoch">No default here: a run's default depends on its length (the catalog's ⌊0.3·epochs⌋).</param>
    public Saf(int startEpoch, double lambda = DefaultLambda, double tau = DefaultTau, int lag = DefaultLag)
    {
        TrajectoryLoss.CheckOptions("SAF", lambda, tau);
        if (lag < 1) throw new BasinException($"SAF lag Ẽ must be at least 1 epoch, got {lag}");
        if (startEpoch < 0) throw new BasinException($"SAF start epoch must be ≥ 0, got {startEpoch}");
        Lambda = lambda;
        Tau = tau;
        Lag = lag;
        StartEpoch = startEpoch;
    }

    public double Lambda { get; }
    public double Tau { get; }
    public int Lag { get; }
    public int StartEpoch { get; }

    public string Name => "saf";

    /// <summary>The bank (null before the first step): [N, Ẽ+1, C] logits by dataset index and slot.</summary>
    public Tensor? Bank => _bank;

    public Tensor Compute(ObjectiveContext context)
    {
        var indices = CheckedIndices(context);
        var logits = context.Logits;
        int epoch = context.Position.Epoch;
        long slots = Lag + 1;
        Ensure(context.ExampleCount, logits.shape[1], logits.device);
        Tensor? term = null;
        if (epoch >= StartEpoch && epoch >= Lag)
        {
            Tensor reference, valid;
            using (no_grad())
            {
                long read = (epoch - Lag) % slots;
                reference = _bank!.index_select(0, indices).select(1, read).to_type(logits.dtype);
                using var lagged = (epoch - Lag).ToScalar();
                valid = _epochs!.index_select(0, indices).select(1, read).eq(lagged);
            }
            if (valid.any().ToBoolean()) term = TrajectoryLoss.Compute(logits, reference, Lambda, Tau, valid);
        }
        using (no_grad()) Record(indices, logits, epoch, slots, context.Position.Step);
        return term ?? zeros(1, dtype: logits.dtype, device: logits.device).sum();
    }

    void Record(Tensor indices, Tensor logits, int epoch, long slots, long step)
    {
        long write = epoch % slots;
        using var stepScalar = step.ToScalar();
        using var epochScalar = epoch.ToScalar();
        var fresh = _steps!.index_select(0, indices).ne(stepScalar);        // first evaluation of these examples in this step
        if (!fresh.any().ToBoolean()) return;
        var idx = indices.masked_select(fresh);
        var rows = logits.detach().index_select(0, fresh.nonzero().squeeze(1)).to_type(ScalarType.Float32);
        var bankSlot = _bank!.select(1, write);
        bankSlot.index_copy_(0, idx, rows);
        _epochs!.select(1, write).index_fill_(0, idx, epochScalar);
        _steps.index_fill_(0, idx, stepScalar);
    }

    static Tensor CheckedIndices(ObjectiveContext context)
    {
        var batch = context.Batch;
        var indices = batch.Indices;
        if (indices is null || indices.IsInvalid || indices.dim() != 1 || indices.shape[0] != batch.Size
            || indices.dtype != ScalarType.Int64)
            throw new BasinException("SAF needs the dataset index of every example in a batch (Batch.Indices, int64 [B]); this loader " +
                "does not provide them");
        if (batch.Size > 0)
        {
            long min = indices.min().ToInt64(), max = indices.max().ToInt64();
            if (min < 0 || max >= context.ExampleCount)
                throw new BasinException($"SAF got example index {(min < 0 ? min : max)} but the training set has " +
                    $"{context.ExampleCount} examples");
        }
        return indices.device == context.Logits.device ? indices : indices.to(context.Logits.device);
    }

    void Ensure(long count, long classes, Device device)
    {
        if (_bank is not null)
        {
            if (_bank.shape[0] != count || _bank.shape[2] != classes)
                throw new BasinException($"SAF's memory bank holds {_bank.shape[0]} examples × {_bank.shape[2]} classes, but this run " +
                    $"has {count} × {classes}");
            if (_bank.device != device)
            {
                var (bank, epochs, steps) = (_bank.to(device).DetachFromDisposeScope(), _epochs!.to(device).DetachFromDisposeScope(),
                    _steps!.to(device).DetachFromDisposeScope());
                Reset();
                (_bank, _epochs, _steps) = (bank, epochs, steps);
            }
            return;
        }
        _bank = zeros([count, Lag + 1, classes], ScalarType.Float32, device).DetachFromDisposeScope();
        using var none = (-1L).ToScalar();
        _epochs = full([count, Lag + 1], none, ScalarType.Int64, device).DetachFromDisposeScope();
        _steps = full([count], none, ScalarType.Int64, device).DetachFromDisposeScope();
    }

    public IEnumerable<KeyValuePair<string, Tensor>> State()
    {
        if (_bank is null) yield break;
        yield return new(BankKey, _bank);
        yield return new(EpochsKey, _epochs!);
        yield return new(StepsKey, _steps!);
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        if (state.Count == 0) { Reset(); return; }
        foreach (var key in state.Keys)
            if (key is not (BankKey or EpochsKey or StepsKey)) throw new BasinException($"SAF state has an unknown entry '{key}'");
        if (!state.TryGetValue(BankKey, out var bank) || !state.TryGetValue(EpochsKey, out var epochs)
            || !state.TryGetValue(StepsKey, out var steps))
            throw new BasinException("SAF state is incomplete (needs bank, epochs and steps)");
        if (bank.dim() != 3 || bank.shape[1] != Lag + 1 || bank.dtype != ScalarType.Float32)
            throw new BasinException($"SAF memory bank has shape [{string.Join(",", bank.shape)}] ({bank.dtype}); this SAF (Ẽ = {Lag}) " +
                $"needs [N,{Lag + 1},C] float32");
        if (!epochs.shape.SequenceEqual(new[] { bank.shape[0], Lag + 1L }) || epochs.dtype != ScalarType.Int64
            || !steps.shape.SequenceEqual(new[] { bank.shape[0] }) || steps.dtype != ScalarType.Int64)
            throw new BasinException("SAF state's epoch and step stamps do not fit its memory bank");
        Reset();
        using var _ = no_grad();
        _bank = bank.clone().DetachFromDisposeScope();
        _epochs = epochs.clone().DetachFromDisposeScope();
        _steps = steps.clone().DetachFromDisposeScope();
    }

    void Reset()
    {
        _bank?.Dispose();
        _epochs?.Dispose();
        _steps?.Dispose();
        _bank = _epochs = _steps = null;
    }
}

/// <summary>SAF in the method catalog: --saf-lambda, --saf-tau, --saf-lag, --saf-start.</summary>
sealed class SafEntry : MethodEntry
{
    public override int Order => 40;
    public static readonly Setting<double> Lambda = Setting.Of("safLambda", "SAF/MESA: trajectory-loss weight λ ≥ 0", Saf.DefaultLambda,
        Check.NonNegative);
    public static readonly Setting<double> Tau = Setting.Of("safTau", "SAF/MESA: temperature τ > 0", Saf.DefaultTau, Check.Positive);
    static readonly Setting<int> Lag = Setting.Of("safLag", "SAF: compare with the logits of this many epochs earlier (Ẽ ≥ 1)",
        Saf.DefaultLag, (x, key) => Check.AtLeast(x, 1, key));
    /// <summary>The first epoch (0-based) with the trajectory loss: ⌊0.3·epochs⌋ unless given.</summary>
    public static readonly Setting<int> Start = Setting.Derived("safStart", "SAF/MESA: first epoch (0-based) with the trajectory loss",
        c => (int)(0.3 * c.Epochs), "⌊0.3·epochs⌋", (x, key) => Check.AtLeast(x, 0, key));

    public override string Name => "saf";
    public override MethodStage Stage => MethodStage.ObjectiveTerm;
    public override string Summary => "sharpness-aware training for free: a KL term to the logits of Ẽ epochs earlier (Du et al. 2022)";
    public override IReadOnlyList<MethodSetting> Settings => [Lambda, Tau, Lag, Start];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context) =>
        recipe.With(new Saf(Start.Value(values, context), Lambda.Value(values, context), Tau.Value(values, context),
            Lag.Value(values, context)));
}
