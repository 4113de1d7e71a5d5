using static TorchSharp.torch;

namespace Basin.Training;

/// <summary>
/// A stage (objective term, gradient procedure, updater) that carries tensors from step to step.
/// Its state goes into checkpoints by name so that a resumed run continues exactly.
/// </summary>
public interface IStatefulStage
{
    /// <summary>The current state as named tensors (the stage keeps ownership).</summary>
    IEnumerable<KeyValuePair<string, Tensor>> State();

    /// <summary>
    /// Replaces the state by a copy of <paramref name="state"/>; throws BasinException when it does not fit.
    /// An empty dictionary means "start afresh" (the trainer passes one to objective terms and gradient
    /// procedures at the start of a new run, so a recipe can be run twice).
    /// </summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}
