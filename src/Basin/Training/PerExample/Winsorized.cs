using System.Text.Json;
using Basin.Training.Catalog;
using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// Winsorized gradient descent ("Making Coherence Out of Nothing At All", Chatterjee &amp; Zielinski 2022): for each
/// coordinate, the c largest and the c smallest per-example values are set to the next value inward, then
/// averaged. c = 0 is plain SGD, and takes the plain backward path (so it equals SGD bit for bit). A batch too
/// small for c (2c ≥ B, e.g. a short last batch) is winsorized with c = ⌊(B−1)/2⌋, the median.
/// </summary>
public sealed record Winsorized(int C = 1) : PerExampleAggregation
{
    public override string Name => $"winsorized(c {C})";

    public override ObjectiveValue ComputeGradients(GradientContext context)
    {
        if (C < 0) throw new BasinException($"winsorizing needs c ≥ 0, got {C}");
        return C == 0 ? new Backpropagation().ComputeGradients(context) : base.ComputeGradients(context);
    }

    protected override Tensor Aggregate(Tensor perExample)
    {
        long b = perExample.shape[0];
        long c = Math.Min(C, (b - 1) / 2);
        if (c == 0) return perExample.mean([0]);
        return WinsorizedMean.Compute(perExample.reshape(b, -1), (int)c).reshape(perExample.shape[1..]);
    }
}

/// <summary>Winsorized gradient descent in the method catalog: --winsor-c.</summary>
sealed class WinsorizedEntry : MethodEntry
{
    public override int Order => 70;
    static readonly Setting<int> C = Setting.Of("winsorC", "Winsorized GD: clip the c largest and smallest per-example " +
        "values per coordinate", 1, (x, key) => Check.AtLeast(x, 0, key));

    public override string Name => "winsorized";
    public override MethodStage Stage => MethodStage.GradientProcedure;
    public override string Summary => "winsorized per-example gradients (Chatterjee & Zielinski 2022)";
    public override IReadOnlyList<MethodSetting> Settings => [C];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context) =>
        recipe.With(new Winsorized(C.Value(values, context)) { CoherenceEvery = context.CoherenceEvery });
}
