namespace Basin.Training;

/// <summary>The plain gradient: one forward pass, one backward pass.</summary>
public sealed record Backpropagation : IGradientProcedure
{
    public string Name => "backprop";

    public ObjectiveValue ComputeGradients(GradientContext context)
    {
        context.ClearGradients();
        var value = context.Evaluate();
        value.Total.backward();
        return value;
    }
}
