using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>Cross-entropy of the logits against the labels, averaged over the batch.</summary>
public sealed record CrossEntropy : IObjectiveTerm
{
    public string Name => "cross_entropy";

    public Tensor Compute(ObjectiveContext context) =>
        nn.functional.cross_entropy(context.Logits, context.Batch.Labels);
}
