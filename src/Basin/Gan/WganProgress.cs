namespace Basin.Gan;

/// <summary>
/// The state after generator iteration <paramref name="Iteration"/> (1-based), measured on the last critic step's
/// minibatch. <paramref name="WassersteinEstimate"/> = E_real f − E_fake f, the critic's estimate of W1 (up to
/// the Lipschitz constant); <paramref name="CriticLoss"/> = E_fake f − E_real f + λ·P; <paramref name="Penalty"/> = P
/// (0 for clipping); <paramref name="GeneratorLoss"/> = −E_fake f on the generator step's batch.
/// </summary>
public sealed record WganProgress(
    int Iteration,
    int TotalIterations,
    double WassersteinEstimate,
    double CriticLoss,
    double Penalty,
    double GeneratorLoss,
    string? Checkpoint)
{
    /// <summary>The exact W1 between generated and real points at this iteration, when it was measured
    /// (see <see cref="WganConfig.EvaluationInterval"/>); null otherwise.</summary>
    public double? ExactW1 { get; init; }
}

/// <summary>The outcome of <see cref="WganTrainer.Train"/>: the recorded history (every ProgressInterval
/// iterations and the last) and the checkpoints written, oldest first.</summary>
public sealed record WganResult(
    int Iterations,
    IReadOnlyList<WganProgress> History,
    IReadOnlyList<string> Checkpoints)
{
    public WganProgress Final => History[^1];
}

/// <summary>
/// Training was cancelled after <paramref name="CompletedIterations"/> generator iterations; when the config names a
/// checkpoint folder, the networks' state at that point was saved to <paramref name="Checkpoint"/> first.
/// </summary>
public sealed class WganCancelledException(int completedIterations, string? checkpoint, CancellationToken token)
    : OperationCanceledException($"cancelled after {completedIterations} generator iterations", token)
{
    public int CompletedIterations { get; } = completedIterations;
    public string? Checkpoint { get; } = checkpoint;
}
