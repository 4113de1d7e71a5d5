namespace Basin.Training.Methods;

/// <summary>Which relative flatness FAM's λ weighs: the paper's κ_Tr/m (m = the layer's inputs per neuron) or κ_Tr itself.</summary>
public enum FamNormalization
{
    /// <summary>
    /// The FAM paper's objective and Basin's default: λ·κ_Tr/m. The reference code's "neuronwise" norm divides every
    /// Tr(H_{s,t}) by m, and the paper's λ values (0.1 on Fashion-MNIST) were tuned for this form.
    /// </summary>
    LayerInputs,

    /// <summary>λ·κ_Tr without the 1/m: the form Basin used before this option existed (m times stronger at equal λ).</summary>
    None,
}

/// <summary>Names of <see cref="FamNormalization"/> values as runs, sweep files and the CLI write them.</summary>
public static class FamNormalizations
{
    /// <summary>The names, default first.</summary>
    public static readonly string[] Names = ["layer-inputs", "none"];

    public static string Name(FamNormalization n) => n == FamNormalization.LayerInputs ? "layer-inputs" : "none";

    /// <summary>Parses a name; the message names <paramref name="parameter"/> and the accepted values.</summary>
    public static FamNormalization Parse(string? name, string parameter) =>
        Check.OneOf(name, Names, parameter) == "none" ? FamNormalization.None : FamNormalization.LayerInputs;
}
