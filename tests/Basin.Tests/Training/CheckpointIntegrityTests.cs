using Basin.IO;
using Basin.Experiments;
using Basin.Training;
using Xunit;
using static TorchSharp.torch;

namespace Basin.Tests.Training;

/// <summary>Checkpoints that resume verifies (issue 20): a checksum, ranges, stale temporaries, true run states.</summary>
public class CheckpointIntegrityTests
{
    static TrainingConfig Config(string path, int epochs = 2) => new(epochs, 16, 5) { CheckpointPath = path };

    static string Trained(out string dir, int epochs = 2)
    {
        dir = Directory.CreateTempSubdirectory("basin-ckpt-").FullName;
        var path = Path.Combine(dir, "checkpoint.safetensors");
        using var data = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        new Trainer(Recipe.Sgd(0.05), Config(path, epochs)).Run(model, data);
        return path;
    }

    [Fact]
    public void AFlippedBitInACheckpointIsFoundOnLoad()
    {
        var path = Trained(out _);
        using (var ok = Checkpoint.Load(path)) Assert.Equal(2, ok.Info.Epoch);
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x10;   // inside the data section (the last tensor)
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => Checkpoint.Load(path));
        Assert.Contains("CRC-32", e.Message);
        Assert.Contains("damaged", e.Message);
    }

    [Fact]
    public void ResavingAFilesTensorsWithItsMetadataDoesNotCopyTheOldChecksum()
    {
        var path = Trained(out _);
        var copy = Path.Combine(Path.GetDirectoryName(path)!, "fewer.safetensors");
        using (var file = SafeTensors.Load(path))
        {
            Assert.True(file.Metadata.ContainsKey(SafeTensors.ChecksumKey));
            SafeTensors.Save(copy, file.Tensors.Where(t => t.Key.StartsWith(Checkpoint.ModelPrefix, StringComparison.Ordinal)),
                file.Metadata);
        }
        using var reread = SafeTensors.Load(copy);   // no checksum asked for: the stale one is not written
        Assert.False(reread.Metadata.ContainsKey(SafeTensors.ChecksumKey));
        Assert.True(reread.Metadata.ContainsKey(Checkpoint.MetadataKey));
    }

    [Fact]
    public void ACheckpointBeyondTheRunsEpochsIsRefusedOnResume()
    {
        var path = Trained(out _, epochs: 2);
        using var data = TinyData.Make(64, seed: 2);
        using var model = new TinyMlp(seed: 1);
        // The same checkpoint, resumed by a run of 1 epoch: epoch 2 lies outside it (it used to finish at once).
        var e = Assert.Throws<DataFormatException>(() => new Trainer(Recipe.Sgd(0.05), Config(path, epochs: 1) with { Resume = true }).Run(model, data));
        Assert.Contains("epoch 2 lies outside this run's 1 epochs", e.Message);
    }

    [Fact]
    public void StaleTemporariesOfDeadProcessesAreRemovedAndLiveOnesKept()
    {
        var dir = Directory.CreateTempSubdirectory("basin-tmp-").FullName;
        string Tmp(int pid) => Path.Combine(dir, $".checkpoint.safetensors.{pid}.{Guid.NewGuid():N}.tmp");
        var dead = Tmp(int.MaxValue - 7);
        var mine = Tmp(Environment.ProcessId);
        File.WriteAllText(dead, "x");
        File.WriteAllText(mine, "x");
        File.WriteAllText(Path.Combine(dir, "keep.tmp"), "x");   // not one of AtomicFile's names
        Assert.Equal(1, AtomicFile.RemoveStale(dir));
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(mine));
        Assert.True(File.Exists(Path.Combine(dir, "keep.tmp")));
    }

    [Fact]
    public void ARunWhoseProcessEndedWithoutAnOutcomeShowsAsInterrupted()
    {
        var dir = Directory.CreateTempSubdirectory("basin-runs-").FullName;
        using (var store = RunStore.Open(dir))
        {
            store.Start(new RunRecord("20260101-000000-abcd", "train", DateTime.UtcNow, "mlp", "moons", 1, "{}", "{}"));
            Assert.Equal(RunStatus.Running, store.List().Single().Status);   // this process holds it
        }
        // The store was closed without Finish (as when the process is killed): nobody holds the run any more.
        using var reopened = RunStore.Open(dir);
        var run = reopened.List().Single();
        Assert.Equal(RunStatus.Interrupted, run.Status);
        Assert.Contains("ended without recording an outcome", run.Message);
        Assert.Equal(RunStatus.Interrupted, reopened.Get("20260101").Summary.Status);
    }
}

/// <summary>Every way a run ends leaves a true state (issue 20).</summary>
public class RunStateTests
{
    sealed class FailAtFirstEpoch : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is EpochDone) throw new IOException("No space left on device");
        }
    }

    sealed class DieAfterFirstCheckpoint : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is CheckpointWritten) throw new IOException("killed between the checkpoint and the epoch's record");
        }
    }

    [Fact]
    public void AnEpochWhoseCheckpointWasWrittenButNotItsRecordIsRecordedOnResume()
    {
        // A kill between an epoch's checkpoint and its record (seen once in the SIGKILL sweep test): the checkpoint
        // says epoch 1 is done, the run has no row for it. Resuming must record it, in the database and in epochs.csv.
        var dir = Directory.CreateTempSubdirectory("basin-state-").FullName;
        var spec = new Basin.Experiments.Training.TrainJobSpec { Dataset = "moons", Model = "mlp:4", Samples = 40, TestSamples = 10, Epochs = 3, BatchSize = 20 };
        using var store = RunStore.Open(dir);
        Assert.Throws<IOException>(() => Basin.Experiments.Training.TrainingJob.Run(spec, store, new DieAfterFirstCheckpoint()));
        var run = store.List().Single();
        Assert.Empty(store.Get(run.Id).Epochs);
        Basin.Experiments.Training.TrainingJob.Resume(run.Id, store);
        Assert.Equal([1, 2, 3], store.Get(run.Id).Epochs.Select(e => e.GetProperty("epoch").GetInt32()));
        var csv = File.ReadAllLines(Path.Combine(store.RunFolder(run.Id), "epochs.csv")).Skip(1).Select(l => l.Split(',')[0]);
        Assert.Equal(["1", "2", "3"], csv);
    }

    [Fact]
    public void AnIoFailureMarksTheRunFailedAndTheEpochsCheckpointCameFirst()
    {
        var dir = Directory.CreateTempSubdirectory("basin-state-").FullName;
        var spec = new Basin.Experiments.Training.TrainJobSpec { Dataset = "moons", Model = "mlp:4", Samples = 40, TestSamples = 10, Epochs = 2, BatchSize = 20 };
        using var store = RunStore.Open(dir);
        Assert.Throws<IOException>(() => Basin.Experiments.Training.TrainingJob.Run(spec, store, new FailAtFirstEpoch()));
        var run = store.List().Single();
        Assert.Equal(RunStatus.Failed, run.Status);   // it used to stay "running" for ever
        Assert.Equal("IOException: No space left on device", run.Message);
        // The epoch's checkpoint was written before the epoch was reported: the run can continue from epoch 2.
        using var checkpoint = Checkpoint.Load(Path.Combine(store.RunFolder(run.Id), Basin.Experiments.Training.TrainingJob.CheckpointFile));
        Assert.Equal((1, 0), (checkpoint.Info.Epoch, checkpoint.Info.Batch));
        var resumed = Basin.Experiments.Training.TrainingJob.Resume(run.Id, store);
        Assert.Equal(2, resumed.Figures.Epochs);
        Assert.Equal(RunStatus.Finished, store.List().Single().Status);
    }
}
