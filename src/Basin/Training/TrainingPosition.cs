namespace Basin.Training;

/// <summary>
/// Where a run is: <see cref="Epoch"/> and <see cref="Batch"/> are 0-based (the epoch in progress and the
/// number of batches of it already done); <see cref="Step"/> counts updates since the run began.
/// </summary>
public readonly record struct TrainingPosition(int Epoch, int Batch, long Step);
