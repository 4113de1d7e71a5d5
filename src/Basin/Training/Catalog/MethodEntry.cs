using System.Text.Json;

namespace Basin.Training.Catalog;

/// <summary>Which of the recipe's three stages a method changes (sgd changes none).</summary>
public enum MethodStage { Plain, ObjectiveTerm, GradientProcedure, UpdateRule }

/// <summary>Facts about the run that some defaults depend on (SAF's start epoch, MESA's decay, SGLD's burn-in).</summary>
/// <param name="TrainCount">Training examples.</param>
/// <param name="BatchesPerEpoch">Updates per epoch.</param>
/// <param name="TotalSteps">Updates in the whole run.</param>
/// <param name="Epochs">Epochs of the run.</param>
/// <param name="CoherenceEvery">Log m-coherence every this many steps (0: never).</param>
public sealed record MethodContext(long TrainCount, int BatchesPerEpoch, long TotalSteps, int Epochs, int CoherenceEvery = 0);

/// <summary>One training method in the catalog: its name, stage, settings and how it adds its piece to a recipe.</summary>
public abstract class MethodEntry
{
    /// <summary>The name in --method and in run configs, e.g. "sam".</summary>
    public abstract string Name { get; }

    public abstract MethodStage Stage { get; }

    /// <summary>Position in listings (help, docs): smaller first; ties are listed by name.</summary>
    public abstract int Order { get; }

    /// <summary>One line for help: what the method does and the paper it comes from.</summary>
    public abstract string Summary { get; }

    public virtual IReadOnlyList<MethodSetting> Settings => [];

    /// <summary>Adds the method's piece to <paramref name="recipe"/>, reading its settings (checked) from
    /// <paramref name="values"/>.</summary>
    public abstract Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context);
}
