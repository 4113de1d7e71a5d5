using System.Diagnostics;
using System.Text.Json;
using Basin.IO;
using Basin.Experiments;
using Xunit;

namespace Basin.Tests.Cli;

/// <summary>The CLI end to end on small generated data: records, JSON, bad input, Ctrl+C, kill and resume.</summary>
public class TrainCliTests
{
    /// <summary>`basin train` on the generated data with small defaults; <paramref name="overrides"/> are option/value pairs or flags.</summary>
    static string[] Train(string data, params string[] overrides)
    {
        var options = new List<(string Name, string? Value)>
        {
            ("--data", data), ("--model", "mlp:16"), ("--epochs", "2"), ("--batch-size", "16"), ("--threads", "1"), ("--seed", "3"),
        };
        for (int i = 0; i < overrides.Length; i++)
        {
            var name = overrides[i];
            string? value = i + 1 < overrides.Length && !overrides[i + 1].StartsWith("--") ? overrides[++i] : null;
            options.RemoveAll(o => o.Name == name);
            options.Add((name, value));
        }
        var args = new List<string> { "train" };
        foreach (var (name, value) in options)
        {
            args.Add(name);
            if (value != null) args.Add(value);
        }
        return args.ToArray();
    }

    static void AssertSameTensors(string a, string b)
    {
        using var fa = SafeTensors.Load(a);
        using var fb = SafeTensors.Load(b);
        Assert.Equal(fa.Tensors.Keys.OrderBy(k => k), fb.Tensors.Keys.OrderBy(k => k));
        foreach (var (name, t) in fa.Tensors)
            Basin.Tests.Training.TensorAssert.BitIdentical(t, fb.Tensors[name], name);
    }

    [Fact]
    public void TrainRecordsTheRunAndEvalReproducesItsTestFigures()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, [.. Train(data, "--json", "--name", "first try"), "--tag", "baseline", "--tag", "mlp"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var id = doc.RootElement.GetProperty("runId").GetString()!;
        var testAcc = doc.RootElement.GetProperty("figures").GetProperty("testAccuracy").GetDouble();
        var testLoss = doc.RootElement.GetProperty("figures").GetProperty("testLoss").GetDouble();
        Assert.Equal(2, doc.RootElement.GetProperty("epochs").GetArrayLength());

        // RUN/epochs.csv: a header, then one row per epoch whose figures are the recorded ones, exactly.
        var csv = File.ReadAllLines(Path.Combine(dir, "runs", id, Basin.Experiments.Training.TrainingJob.EpochsFile));
        Assert.Equal(3, csv.Length);
        var header = csv[0].Split(',');
        Assert.Equal(["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy"], header[..5]);
        foreach (var (e, i) in doc.RootElement.GetProperty("epochs").EnumerateArray().Select((e, i) => (e, i)))
        {
            var cells = csv[i + 1].Split(',');
            Assert.Equal(header.Length, cells.Length);
            Assert.Equal(i + 1, int.Parse(cells[0]));
            Assert.Equal(e.GetProperty("testAccuracy").GetDouble(), double.Parse(cells[4], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(e.GetProperty("trainLoss").GetDouble(), double.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(e.GetProperty("steps").GetInt64(), long.Parse(cells[10]));
        }

        var show = CliRunner.Run(dir, null, "runs", "show", id, "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        using var run = JsonDocument.Parse(show.Stdout);
        Assert.Equal("finished", run.RootElement.GetProperty("summary").GetProperty("status").GetString());
        Assert.Equal(3, run.RootElement.GetProperty("config").GetProperty("seed").GetInt64());
        Assert.Equal(2, run.RootElement.GetProperty("epochs").GetArrayLength());
        Assert.Equal("0.107.0", run.RootElement.GetProperty("versions").GetProperty("torchsharp").GetString());

        var eval = CliRunner.Run(dir, null, "eval", "--run", id, "--json");
        Assert.True(eval.ExitCode == 0, eval.ToString());
        using var ev = JsonDocument.Parse(eval.Stdout);
        Assert.Equal(testAcc, ev.RootElement.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(testLoss, ev.RootElement.GetProperty("loss").GetDouble(), 6);
        Assert.Equal(32, ev.RootElement.GetProperty("count").GetInt64());

        var list = CliRunner.Run(dir, null, "runs", "list", "--wide");
        Assert.Contains(id, list.Stdout);
        Assert.Contains(" sgd ", list.Stdout.Split('\n').Single(l => l.Contains(id)));
        var tagged = CliRunner.Run(dir, null, "runs", "list", "--tag", "MLP", "--json");
        using var tj = JsonDocument.Parse(tagged.Stdout);
        Assert.Equal(id, tj.RootElement.EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Equal(["baseline", "mlp"], tj.RootElement[0].GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToArray());
        Assert.Equal("first try", tj.RootElement[0].GetProperty("name").GetString());
        Assert.Contains("No runs in", CliRunner.Run(dir, null, "runs", "list", "--tag", "other").Stdout);
        var shown = CliRunner.Run(dir, null, "runs", "show", id);
        Assert.Contains("name first try", shown.Stdout);
        Assert.Contains("tags baseline, mlp", shown.Stdout);
    }

    [Fact]
    public void SameSeedGivesIdenticalWeights()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var a = CliRunner.Run(dir, null, Train(data, "--out", Path.Combine(dir, "a.safetensors")));
        var b = CliRunner.Run(dir, null, Train(data, "--out", Path.Combine(dir, "b.safetensors")));
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, a + "\n" + b);
        AssertSameTensors(Path.Combine(dir, "a.safetensors"), Path.Combine(dir, "b.safetensors"));
    }

    [Fact]
    public void KilledRunResumesToTheSameWeightsBitForBit()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 192);
        string[] args = Train(data, "--epochs", "60", "--checkpoint-every", "5");

        var full = CliRunner.Run(dir, null, Train(data, "--epochs", "60", "--checkpoint-every", "5", "--out", Path.Combine(dir, "full.safetensors")));
        Assert.True(full.ExitCode == 0, full.ToString());

        // Start the same run, kill -9 it as soon as a checkpoint exists, then resume it.
        var runs = Path.Combine(dir, "runs");
        using var p = CliRunner.Start(dir, null, args);
        string? runFolder = null;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(2))
        {
            runFolder = Directory.Exists(runs) ? Directory.GetDirectories(runs).FirstOrDefault(d => File.Exists(Path.Combine(d, "checkpoint.safetensors")) && !File.Exists(Path.Combine(d, "weights.safetensors")) && d != FullRunFolder(runs)) : null;
            if (runFolder != null || p.HasExited) break;
            Thread.Sleep(20);
        }
        if (!p.HasExited) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        Assert.True(runFolder != null && p.ExitCode != 0, "the run finished before it could be killed");
        var id = Path.GetFileName(runFolder)!;
        // The checkpoint on disk is complete (atomic write): it loads.
        using (var ck = SafeTensors.Load(Path.Combine(runFolder!, "checkpoint.safetensors"))) Assert.NotEmpty(ck.Tensors);

        var resumed = CliRunner.Run(dir, null, "train", "--resume", id, "--threads", "1", "--out", Path.Combine(dir, "resumed.safetensors"));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        AssertSameTensors(Path.Combine(dir, "full.safetensors"), Path.Combine(dir, "resumed.safetensors"));
    }

    static string? FullRunFolder(string runs)
    {
        using var store = RunStore.Open(runs);
        var finished = store.List().LastOrDefault(r => r.Status == RunStatus.Finished);
        return finished is null ? null : store.RunFolder(finished.Id);
    }

    [Fact]
    public void CtrlCWritesACheckpointMarksTheRunCancelledAndResumeFinishesIt()
    {
        // Enough epochs (each takes milliseconds) that the run cannot end between the first checkpoint and SIGINT.
        const int Epochs = 1000;
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir, train: 96);
        using var p = CliRunner.Start(dir, null, Train(data, "--epochs", Epochs.ToString()));
        var runs = Path.Combine(dir, "runs");
        var sw = Stopwatch.StartNew();
        // Wait until training is under way (the first epoch's checkpoint exists), then send SIGINT.
        while (sw.Elapsed < TimeSpan.FromMinutes(2) && !(Directory.Exists(runs) && Directory.GetFiles(runs, "checkpoint.safetensors", SearchOption.AllDirectories).Length > 0))
            Thread.Sleep(20);
        Assert.False(p.HasExited, "run ended before it could be interrupted");
        CliRunner.Interrupt(p);
        Assert.True(p.WaitForExit(60_000), "run did not stop after SIGINT");
        Assert.Equal(130, p.ExitCode);
        var stderr = p.StandardError.ReadToEnd();
        Assert.Contains("cancelled", stderr);

        using (var store = RunStore.Open(runs))
        {
            var run = Assert.Single(store.List());
            Assert.Equal(RunStatus.Cancelled, run.Status);
            Assert.Contains("--resume", run.Message);
        }
        var id = Path.GetFileName(Directory.GetDirectories(runs).Single());
        using (var ck = SafeTensors.Load(Path.Combine(runs, id, "checkpoint.safetensors"))) Assert.NotEmpty(ck.Tensors);

        var resumed = CliRunner.Run(dir, null, "train", "--resume", id, "--threads", "1", "--json");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        using var doc = JsonDocument.Parse(resumed.Stdout);
        Assert.Equal(Epochs, doc.RootElement.GetProperty("epochs").GetArrayLength());
        using var store2 = RunStore.Open(runs);
        Assert.Equal(RunStatus.Finished, store2.Get(id).Summary.Status);
        Assert.Equal(Epochs, store2.Get(id).Epochs.Count);
    }

    [Fact]
    public void NaNLossIsAOneLineErrorAndTheRunIsRecordedAsFailed()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, Train(data, "--lr", "1e30", "--momentum", "0"));
        CliRunner.AssertOneLineError(r, "NaN");
        using var store = RunStore.Open(Path.Combine(dir, "runs"));
        var run = Assert.Single(store.List());
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.False(File.Exists(Path.Combine(store.RunFolder(run.Id), "weights.safetensors")));
    }

    [Theory]
    [InlineData("--model", "lenet7", "unknown model")]
    [InlineData("--optimizer", "rmsprop", "unknown optimizer")]
    [InlineData("--schedule", "zigzag", "unknown schedule")]
    [InlineData("--label-noise", "1.5", "label noise")]
    [InlineData("--epochs", "0", "epochs")]
    [InlineData("--dataset", "cifar", "unknown dataset")]
    [InlineData("--lr", "abc", "abc")]
    [InlineData("--momentum", "1.5", "--momentum must be in [0, 1), got 1.5")]
    [InlineData("--warmup", "-2", "--warmup must be at least 0, got -2")]
    [InlineData("--tag", "two words", "tag 'two words'")]
    [InlineData("--name", " ", "--name was given an empty value")]
    [InlineData("--name", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
        "--name must be")]
    public void BadOptionsAreOneLineErrorsAndRecordNoRun(string option, string value, string cause)
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, Train(data, option, value));
        CliRunner.AssertOneLineError(r, cause);
        using var store = RunStore.Open(Path.Combine(dir, "runs"));
        Assert.Empty(store.List());
    }

    [Fact]
    public void CorruptDataFilesAreOneLineErrors()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var images = Path.Combine(data, "train-images-idx3-ubyte.gz");
        var bytes = File.ReadAllBytes(images);

        File.WriteAllBytes(images, bytes[..(bytes.Length / 2)]);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Train(data)), "truncated gzip");

        var corrupt = (byte[])bytes.Clone();
        for (int i = 20; i < 40; i++) corrupt[i] ^= 0x5a;
        File.WriteAllBytes(images, corrupt);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Train(data)), "gzip");

        var raw = Path.Combine(data, "train-images-idx3-ubyte");
        File.Delete(images);
        var idx = Basin.Tests.Data.IdxFiles.Images(96);
        idx[2] = 0x0d; // float type code instead of unsigned byte
        idx[0] = 1;    // and a wrong magic
        File.WriteAllBytes(raw, idx);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Train(data)), "magic");

        File.WriteAllBytes(raw, Basin.Tests.Data.IdxFiles.Images(95));
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, Train(data)), "95 images");
    }

    [Fact]
    public void WeightsThatDoNotFitTheModelAreAOneLineError()
    {
        var dir = CliRunner.TempDir();
        var data = CliDataFolder.Create(dir);
        var r = CliRunner.Run(dir, null, Train(data, "--epochs", "1", "--out", Path.Combine(dir, "mlp.safetensors")));
        Assert.True(r.ExitCode == 0, r.ToString());
        var e = CliRunner.Run(dir, null, "eval", "--weights", Path.Combine(dir, "mlp.safetensors"), "--model", "lenet5", "--data", data);
        CliRunner.AssertOneLineError(e, "does not fit");
        var ok = CliRunner.Run(dir, null, "eval", "--weights", Path.Combine(dir, "mlp.safetensors"), "--data", data, "--json");
        Assert.True(ok.ExitCode == 0, ok.ToString()); // the model spec comes from the file's metadata
        File.WriteAllBytes(Path.Combine(dir, "trunc.safetensors"), File.ReadAllBytes(Path.Combine(dir, "mlp.safetensors"))[..100]);
        CliRunner.AssertOneLineError(CliRunner.Run(dir, null, "eval", "--weights", Path.Combine(dir, "trunc.safetensors"), "--model", "mlp:16", "--data", data), "trunc.safetensors");
    }
}
