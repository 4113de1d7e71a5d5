using Basin.Native;
using Basin.Data;
using Basin.Models;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>The sum of a recipe's objective terms, evaluated with one forward pass as Head(Features(x)).</summary>
public sealed class Objective
{
    readonly IObjectiveTerm[] _terms;

    public Objective(IReadOnlyList<IObjectiveTerm> terms)
    {
        if (terms.Count == 0) throw new BasinException("the objective has no terms");
        _terms = terms.ToArray();
    }

    public IReadOnlyList<IObjectiveTerm> Terms => _terms;

    public ObjectiveValue Evaluate(Classifier model, IReadOnlyList<NamedParameter> parameters, Batch batch, TrainingPosition position,
        long exampleCount)
    {
        var features = model.Features(batch.Inputs);
        var logits = model.Head.forward(features);
        var context = new ObjectiveContext(model, parameters, batch, features, logits, position, exampleCount);
        var total = _terms[0].Compute(context);
        for (int i = 1; i < _terms.Length; i++) total = total.add(_terms[i].Compute(context), Scalars.One);
        return new ObjectiveValue(total, logits, features);
    }
}
