using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>One additive term of the training objective; the objective is the sum of a recipe's terms.</summary>
public interface IObjectiveTerm
{
    /// <summary>Short name used in descriptions and as the checkpoint prefix of a stateful term.</summary>
    string Name { get; }

    /// <summary>The term's value as a scalar tensor connected to the autograd graph.</summary>
    Tensor Compute(ObjectiveContext context);
}
