using System.Text.Json;
using Basin.Training.Catalog;
using Basin.Native;
using Basin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// M3, median of 3 means (Chatterjee &amp; Zielinski 2022): the batch is split into 3 contiguous groups (sizes as
/// equal as possible), the objective's gradient is computed on each group, and the step uses their coordinate-wise
/// median. The groups' gradients come from three backward passes on sub-batches, so every objective term takes
/// part as it would on a batch. A batch of fewer than 3 examples gets the plain gradient.
/// The reported objective is the group objectives' mean weighted by group size.
/// </summary>
public sealed record M3 : IGradientProcedure
{
    public string Name => "m3";

    public ObjectiveValue ComputeGradients(GradientContext context)
    {
        var batch = context.Batch;
        long b = batch.Size;
        if (b < 3) return new Backpropagation().ComputeGradients(context);
        var parameters = context.Parameters;
        var groupGradients = new List<Tensor?[]>();
        Tensor? total = null;
        var logits = new List<Tensor>();
        var features = new List<Tensor>();
        long start = 0;
        for (int k = 0; k < 3; k++)
        {
            long size = b / 3 + (k < b % 3 ? 1 : 0);
            var part = new Batch(batch.Inputs.narrow(0, start, size), batch.Labels.narrow(0, start, size),
                batch.Indices.narrow(0, start, size));
            start += size;
            context.ClearGradients();
            var value = context.Evaluate(part);
            value.Total.backward();
            groupGradients.Add(parameters.Select(p => p.Value.grad?.detach().clone()).ToArray());
            using var share = ((double)size / b).ToScalar();
            var weighted = value.Total.detach().mul(share);
            total = total is null ? weighted : total.add(weighted, Scalars.One);
            logits.Add(value.Logits.detach());
            features.Add(value.Features.detach());
        }
        using (no_grad())
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i].Value;
                var parts = groupGradients.Select(g => g[i] ?? zeros_like(p)).ToArray();
                p.grad = groupGradients.All(g => g[i] is null) ? null : Median3.Of(parts[0], parts[1], parts[2]);
            }
        }
        return new ObjectiveValue(total!, cat(logits, 0), cat(features, 0));
    }
}

/// <summary>M3 in the method catalog (no settings).</summary>
sealed class M3Entry : MethodEntry
{
    public override int Order => 80;
    public override string Name => "m3";
    public override MethodStage Stage => MethodStage.GradientProcedure;
    public override string Summary => "median of three means of per-example gradients (Chatterjee 2020)";

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values,
        MethodContext context) => recipe.With(new M3());
}
