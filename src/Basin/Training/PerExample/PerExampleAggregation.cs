using Basin.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// A gradient procedure that combines per-example gradients of the cross-entropy coordinate by coordinate
/// (coherent-gradient methods, Chatterjee &amp; Zielinski 2022). The other terms of the objective (weight decay,
/// FAM, SAF, ...) are not per-example: they are evaluated on the same forward pass and added with their
/// ordinary batch gradient. Per-example gradients come from <see cref="PerExampleGradients"/> (one replayed
/// forward and backward pass for MLP and LeNet-5; a per-example loop for other models).
/// Every <see cref="CoherenceEvery"/> steps (0: never) the batch's m-coherence is reported as a <see cref="GradientCoherence"/>.
/// </summary>
public abstract record PerExampleAggregation : IGradientProcedure
{
    public int CoherenceEvery { get; init; }

    public abstract string Name { get; }

    /// <summary>Combines per-example gradients [B, ...] into one gradient [...].</summary>
    protected abstract Tensor Aggregate(Tensor perExample);

    public virtual ObjectiveValue ComputeGradients(GradientContext context)
    {
        context.ClearGradients();
        var model = context.Model;
        var batch = context.Batch;
        if (context.Terms.Count == 0 || !context.Terms.Any(t => t is CrossEntropy))
            throw new BasinException($"{Name} aggregates per-example cross-entropy gradients: the objective needs a cross_entropy term " +
                "(and the trainer's GradientContext.Terms)");
        Tensor features, logits, ceSum;
        Tensor[] perExample;
        Tensor? rest;
        if (LayerTrace.Supports(model))
        {
            var trace = LayerTrace.Run(model, batch.Inputs);
            (features, logits) = (trace.Features, trace.Logits);
            PerExampleGradients.CheckLabels(logits, batch.Labels);
            rest = RestOfObjective(context, features, logits);
            ceSum = nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum);
            perExample = PerExampleGradients.FromTrace(model, trace, ceSum, retainGraph: rest is not null);
        }
        else
        {
            perExample = PerExampleGradients.Exact(model, batch.Inputs, batch.Labels);
            features = model.Features(batch.Inputs);
            logits = model.Head.forward(features);
            rest = RestOfObjective(context, features, logits);
            using (no_grad()) ceSum = nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum);
        }
        rest?.backward();
        var parameters = context.Parameters;
        using (no_grad())
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i].Value;
                var aggregate = Aggregate(perExample[i]);
                var g = p.grad;
                p.grad = g is null ? aggregate : g.add(aggregate, Scalars.One);
            }
        }
        if (CoherenceEvery > 0 && context.Progress is { } progress && context.Position.Step % CoherenceEvery == 0)
            progress.Report(new GradientCoherence(context.Position.Epoch + 1, context.Position.Step, (int)batch.Size,
                MCoherence.Of(perExample)));
        using var size = batch.Size.ToScalar();
        var total = ceSum.detach().div(size);
        if (rest is not null) total = total.add(rest.detach(), Scalars.One);
        return new ObjectiveValue(total, logits, features);
    }

    /// <summary>Σ of the objective's terms other than cross-entropy on this forward pass; null when there are none.</summary>
    static Tensor? RestOfObjective(GradientContext context, Tensor features, Tensor logits)
    {
        var objectiveContext = new ObjectiveContext(context.Model, context.Parameters, context.Batch, features, logits, context.Position,
            context.ExampleCount);
        Tensor? sum = null;
        foreach (var term in context.Terms)
        {
            if (term is CrossEntropy) continue;
            var t = term.Compute(objectiveContext);
            sum = sum is null ? t : sum.add(t, Scalars.One);
        }
        return sum;
    }
}
