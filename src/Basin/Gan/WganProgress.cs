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
    string? Checkpoint);

/// <summary>The outcome of <see cref="WganTrainer.Train"/>: the recorded history (every ProgressInterval
/// iterations and the last) and the checkpoints written, oldest first.</summary>
public sealed record WganResult(
    int Iterations,
    IReadOnlyList<WganProgress> History,
    IReadOnlyList<string> Checkpoints)
{
    public WganProgress Final => History[^1];
}
