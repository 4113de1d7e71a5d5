using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// Wraps any gradient procedure and, every <see cref="Every"/> steps, measures the m-coherence of the batch's
/// per-example cross-entropy gradients at the weights the step starts from, reported as a <see cref="GradientCoherence"/>.
/// The measurement does not touch .grad; the step is the inner procedure's.
/// </summary>
public sealed class CoherenceProbe(IGradientProcedure inner, int every) : IGradientProcedure, IStatefulStage
{
    public IGradientProcedure Inner { get; } = inner;
    public int Every { get; } = every >= 1 ? every : throw new BasinException($"coherence must be measured every ≥ 1 steps, got {every}");

    public string Name => Inner.Name;

    public ObjectiveValue ComputeGradients(GradientContext context)
    {
        if (context.Progress is { } progress && context.Position.Step % Every == 0)
        {
            using var scope = NewDisposeScope();
            var batch = context.Batch;
            var g = PerExampleGradients.Compute(context.Model, batch.Inputs, batch.Labels);
            progress.Report(new GradientCoherence(context.Position.Epoch + 1, context.Position.Step, (int)batch.Size, MCoherence.Of(g)));
        }
        return Inner.ComputeGradients(context);
    }

    public IEnumerable<KeyValuePair<string, Tensor>> State() => Inner is IStatefulStage s ? s.State() : [];

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        if (Inner is IStatefulStage s) s.LoadState(state);
        else if (state.Count > 0) throw new BasinException($"{Inner.Name} has no state, but the checkpoint holds some");
    }
}
