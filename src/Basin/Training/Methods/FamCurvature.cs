namespace Basin.Training.Methods;

/// <summary>How FAM's relative-flatness term is differentiated.</summary>
public enum FamCurvature
{
    /// <summary>Basin's default: the gradient of κ_Tr in all its arguments (weights, curvature, features).</summary>
    Full,

    /// <summary>
    /// The FAM reference code's choice: the layer Hessian's traces Tr(H_{s,t}) are detached, so the gradient flows
    /// only through ⟨W_s, W_t⟩ — a curvature-weighted weight decay. Same value as <see cref="Full"/>.
    /// </summary>
    Detached,
}
