using System.Globalization;
using Basin.Minima;
using Spectre.Console;

namespace Basin.Cli.Commands;

/// <summary>Tables of `basin minima`.</summary>
static class MinimaView
{
    static string N(double x) => x.ToString("G4", CultureInfo.InvariantCulture);
    static string List(IEnumerable<double> xs) => string.Join(", ", xs.Select(N));
    static string Type(PointType? t) => t?.ToString().ToLowerInvariant() ?? "-";

    public static void Render(string source, SplitClassification c)
    {
        AnsiConsole.MarkupLine(Markup.Escape($"{source}: {c.Network}, split unit {c.Unit} of hidden layer {c.Layer} ({c.SmallParameters} " +
            $"→ {c.SplitParameters} parameters)"));
        AnsiConsole.MarkupLine(Markup.Escape($"  L* = {c.Loss:G10}, ‖∇L‖ = {c.GradientNorm:E2}; eig(H_small) = " +
            $"[{List(c.SmallHessianEigenvalues.Take(6))}{(c.SmallHessianEigenvalues.Length > 6 ? ", …" : "")}] " +
            $"inertia {c.SmallInertia}"));
        AnsiConsole.MarkupLine(Markup.Escape($"  eig(B) = [{List(c.BEigenvalues)}]; ‖M‖ = {c.MNorm:E3}, ‖(I − v̂v̂ᵀ)M‖ = " +
            $"{c.MOrthogonalNorm:E3}, ‖v*ᵀM‖ = {c.OutgoingTimesMNorm:E2} → M {(c.MIsZero ? "= 0" : "≠ 0")}"));
        var t = new Table().AddColumns("λ", "predicted", "observed", "agrees", "inertia (−, 0, +)", "smallest eigenvalues",
            "line in kernel", "plane curvature", "reason");
        foreach (var p in c.Points)
            t.AddRow(N(p.Lambda), Type(p.Predicted), Type(p.Observed), p.Agrees is { } a ? (a ? "yes" : "NO") : "-",
                Markup.Escape(p.ObservedInertia?.ToString() ?? "-"), Markup.Escape(List(p.SmallestEigenvalues)),
                p.KernelLineCosine is { } k ? k.ToString("F6", CultureInfo.InvariantCulture) : "-",
                    p.PlaneCurvature is { } pc ? N(pc) : "-", Markup.Escape(p.Reason));
        AnsiConsole.Write(t);
    }

    public static void Render(string source, EscapeResult e, string? plot)
    {
        int descent = e.Points.Count(p => p.Phase == EscapePhase.Descent);
        AnsiConsole.MarkupLine(Markup.Escape($"escape ({source}, {e.Network}): line λ = {N(e.From)} → {N(e.To)} at L* = " +
            $"{e.StartLoss:G8}; " +
            $"most negative eigenvalue at λ = {N(e.To)}: {e.EscapeEigenvalue:E4}, step {N(e.EscapeStep)} along it"));
        AnsiConsole.MarkupLine(Markup.Escape($"  {descent} descent steps: loss {e.StartLoss:G8} → {e.EndLoss:G8} (‖∇L‖ = " +
            $"{e.EndGradientNorm:E2}, " +
            $"smallest Hessian eigenvalue {e.EndSmallestEigenvalue:E3}, largest |θ| {e.EndMaxAbsParameter:G4}); largest rise between " +
                $"recorded points {e.MaxIncrease:E1}"));
        if (plot is not null) AnsiConsole.MarkupLine(Markup.Escape($"  loss along the path: {plot}"));
    }

    public static void Render(IReadOnlyList<ProbeResult> probes)
    {
        foreach (var p in probes)
            AnsiConsole.MarkupLine(Markup.Escape($"  λ = {N(p.Lambda)}: {p.Directions} random directions of radius {p.Radius:G3}: least " +
                $"loss change {p.MinChange:E2}, " +
                $"{p.Lower} lowered the loss"));
    }

    public static void Render(RestartsResult r, double splitLoss) =>
        AnsiConsole.MarkupLine(Markup.Escape($"best of {r.Restarts} random Newton restarts of {r.Network}: {r.BestLoss:G6} " +
            $"({r.Converged} converged) vs the split minimum's " +
                $"{splitLoss:G6}{(r.BestLoss < splitLoss - 1e-9 ? ": the split minimum is suboptimal" : "")}"));

    public static void Render(SurveyResult r)
    {
        var t = new Table().Title(Markup.Escape($"B at strict minima of {r.Network} fitted to random data ({r.Samples} points, seed " +
            $"{r.Seed})"))
            .AddColumns("fits", "converged", "strict minima", "units", "B ≻ 0", "B ≺ 0", "indefinite", "singular", "M ≠ 0");
        t.AddRow(r.Fits.ToString(), r.Converged.ToString(), r.StrictMinima.ToString(), r.Units.ToString(), r.PositiveDefinite.ToString(),
            r.NegativeDefinite.ToString(), r.Indefinite.ToString(), r.Singular.ToString(), r.MNonzero.ToString());
        AnsiConsole.Write(t);
    }
}
