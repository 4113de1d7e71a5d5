using Basin.Data;
using Basin.Models;
using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>
/// What an objective term may read. The forward pass is done once per evaluation, as
/// Head(Features(x)) (Classifier's forward by contract), so terms that act on the head's
/// input φ(x) (FAM) get <see cref="Features"/> without a second forward pass, and terms that
/// follow examples across epochs (SAF) get <see cref="Batch"/>.Indices.
/// </summary>
public sealed record ObjectiveContext(
    Classifier Model,
    IReadOnlyList<NamedParameter> Parameters,
    Batch Batch,
    Tensor Features,
    Tensor Logits,
    TrainingPosition Position,
    long ExampleCount);
