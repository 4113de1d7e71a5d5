namespace Basin.Training;

/// <summary>
/// How a gradient is obtained from the objective. On return every trainable parameter's .grad holds
/// the gradient to step with (a null .grad means zero), and the weights are those the step starts from.
/// </summary>
public interface IGradientProcedure
{
    string Name { get; }

    /// <summary>Fills the gradients and returns the objective at the current weights (reported, and checked for NaN).</summary>
    ObjectiveValue ComputeGradients(GradientContext context);
}
