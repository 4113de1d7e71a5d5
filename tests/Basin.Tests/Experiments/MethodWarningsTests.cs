using Basin.Experiments;
using Basin.Experiments.Sweeps;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using System.Text.Json;
using Basin.Experiments.Gan;
using Basin.Tests.Cli;
using Xunit;

namespace Basin.Tests.Experiments;

public class MethodWarningsTests
{
    static TrainJobSpec Spec(string method, int epochs, int lag = 2, int? start = null) =>
        new TrainJobSpec { Method = method, Epochs = epochs }.With("safLag", lag).With("safStart", start);

    [Theory]
    [InlineData("saf", 1, 2, null, 3)]      // default start ⌊0.3·1⌋ = 0; first comparison in epoch 3
    [InlineData("saf", 2, 2, null, 3)]
    [InlineData("sam+saf", 3, 1, 3, 4)]     // a late start decides
    [InlineData("SAF", 4, 4, 0, 5)]
    public void SafThatCannotActWithinTheRunIsNamedWithTheEpochsItNeeds(string method, int epochs, int lag, int? start, int needed)
    {
        var w = Assert.Single(MethodWarnings.For(Spec(method, epochs, lag, start)));
        Assert.StartsWith("SAF cannot take effect", w);
        Assert.Contains($"use at least {needed} epochs", w);
    }

    [Theory]
    [InlineData("saf", 3, 2, null)]         // epoch 3 compares with epoch 1
    [InlineData("saf", 10, 2, null)]        // default start 3: active from epoch 4
    [InlineData("sam+saf", 2, 1, 1)]
    [InlineData("mesa", 3, 2, 2)]
    [InlineData("sgd", 1, 2, null)]
    [InlineData("saf", 1, 0, null)]         // a bad lag is the run's error to report, not a warning
    [InlineData("saf", 1, 2, -1)]
    public void NoWarningWhenTheMethodActsOrTheOptionsAreRefusedAnyway(string method, int epochs, int lag, int? start) =>
        Assert.Empty(MethodWarnings.For(Spec(method, epochs, lag, start)));

    [Fact]
    public void EdgePopupWithoutTheScaledInitializationIsNamed()
    {
        var w = Assert.Single(MethodWarnings.For(new TrainJobSpec { Method = "edge-popup", Epochs = 2 }.With("popupScaled", false)));
        Assert.StartsWith("edge-popup with --popup-scaled false keeps the model's own initialization", w);
        Assert.Empty(MethodWarnings.For(new TrainJobSpec { Method = "edge-popup", Epochs = 2 }));   // scaled by default
    }

    [Fact]
    public void AnEdgePopupRunRecordedBeforeTheScaledInitializationReadsAsUnscaled()
    {
        using var old = JsonDocument.Parse("""{"method":"edge-popup","popupKeep":0.5,"epochs":2}""");
        Assert.Equal(JsonValueKind.False, TrainJobSpec.FromStored(old.RootElement, "r").Settings["popupScaled"].ValueKind);
        using var recent = JsonDocument.Parse("""{"method":"edge-popup","popupKeep":0.5,"popupScaled":true,"epochs":2}""");
        Assert.Equal(JsonValueKind.True, TrainJobSpec.FromStored(recent.RootElement, "r").Settings["popupScaled"].ValueKind);
        using var sgd = JsonDocument.Parse("""{"method":"sgd","epochs":2}""");
        Assert.False(TrainJobSpec.FromStored(sgd.RootElement, "r").Settings.ContainsKey("popupScaled"));
    }

    [Fact]
    public void MesaThatStartsAfterTheLastEpochIsNamed()
    {
        var w = Assert.Single(MethodWarnings.For(Spec("mesa", 2, start: 2)));
        Assert.StartsWith("MESA cannot take effect: its term starts at epoch 3", w);
    }

    [Fact]
    public void TheCliWarnsAndTheRunIsIndeedPlainSgd()
    {
        var dir = CliRunner.TempDir();
        string[] common = ["train", "--dataset", "moons", "--model", "mlp:8", "--epochs", "1", "--threads", "1", "--json"];
        var saf = CliRunner.Run(dir, null, [.. common, "--method", "saf"]);
        var sgd = CliRunner.Run(dir, null, [.. common, "--method", "sgd"]);
        Assert.True(saf.ExitCode == 0, saf.ToString());
        Assert.True(sgd.ExitCode == 0, sgd.ToString());
        var line = Assert.Single(saf.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("basin: warning: SAF cannot take effect", line);
        Assert.DoesNotContain("warning", sgd.Stderr);
        double Loss(CliRunner.Result r) =>
            JsonDocument.Parse(r.Stdout).RootElement.GetProperty("figures").GetProperty("trainLoss").GetDouble();
        Assert.Equal(Loss(sgd), Loss(saf));   // what the warning says: the same run as without SAF, bit for bit
    }
}
