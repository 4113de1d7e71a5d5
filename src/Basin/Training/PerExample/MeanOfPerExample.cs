using static TorchSharp.torch;

namespace Basin.Training.PerExample;

/// <summary>
/// The mean of the per-example gradients: the ordinary gradient (to float rounding), obtained the per-example
/// way, so that the batch's m-coherence can be logged every step. Mostly for measurements and benchmarks.
/// </summary>
public sealed record MeanOfPerExample : PerExampleAggregation
{
    public override string Name => "per_example_mean";

    protected override Tensor Aggregate(Tensor perExample) => perExample.mean([0]);
}
