using Basin.Data;
using Basin.Models;

namespace Basin.Training;

/// <summary>
/// What a gradient procedure works with: the model, its trainable parameters, the batch, and the
/// objective, which it may evaluate as often as it needs (SAM evaluates twice: at w and at w + ε;
/// per-example procedures evaluate on sub-batches).
/// </summary>
public sealed class GradientContext
{
    readonly Func<Batch, ObjectiveValue> _evaluate;

    public GradientContext(Classifier model, IReadOnlyList<NamedParameter> parameters, Batch batch, TrainingPosition position,
        Func<Batch, ObjectiveValue> evaluate)
    {
        Model = model;
        Parameters = parameters;
        Batch = batch;
        Position = position;
        _evaluate = evaluate;
    }

    public Classifier Model { get; }
    public IReadOnlyList<NamedParameter> Parameters { get; }
    public Batch Batch { get; }
    public TrainingPosition Position { get; }

    /// <summary>
    /// The objective's terms (empty when the caller did not say). Per-example procedures use them to evaluate
    /// the non-per-example terms on the forward pass they replay themselves.
    /// </summary>
    public IReadOnlyList<IObjectiveTerm> Terms { get; init; } = [];

    /// <summary>Examples in the training set (the N of ObjectiveContext.ExampleCount); 0 when the caller did not say.</summary>
    public long ExampleCount { get; init; }

    /// <summary>Where a procedure may report what it measured on the way (e.g. gradient coherence); may be null.</summary>
    public IProgress<TrainingEvent>? Progress { get; init; }

    /// <summary>One forward pass and every objective term on the whole batch, at the current weights.</summary>
    public ObjectiveValue Evaluate() => _evaluate(Batch);

    /// <summary>The objective on part of the batch (e.g. one example), at the current weights.</summary>
    public ObjectiveValue Evaluate(Batch part) => _evaluate(part);

    /// <summary>Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).</summary>
    public void ClearGradients()
    {
        var ps = Parameters;
        for (int i = 0; i < ps.Count; i++) ps[i].Value.grad = null;
    }
}
