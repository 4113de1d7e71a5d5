using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.Experiments.Gan;
using Basin.Training;
using Basin.Training.Methods;
using Basin.Training.PerExample;
using Xunit;

namespace Basin.Tests.Training.Methods;

/// <summary>How a run's spec maps --method and its options onto the three recipe stages.</summary>
public class RecipeForTests
{
    [Fact]
    public void MethodsMapToTheirStageWithThePapersDefaults()
    {
        var sam = TrainingJob.RecipeFor(new TrainJobSpec { Method = "sam" });
        Assert.Equal(new Sam(0.05), sam.Gradient);
        Assert.Equal(new Asam(0.5, 0.01), TrainingJob.RecipeFor(new TrainJobSpec { Method = "asam" }).Gradient);
        var fam = TrainingJob.RecipeFor(new TrainJobSpec { Method = "fam" }.With("famDetached", true));
        Assert.Equal(new Fam(0.1, null, FamCurvature.Detached), fam.Objective.OfType<Fam>().Single());
        var saf = TrainingJob.RecipeFor(new TrainJobSpec { Method = "saf", Epochs = 10 }).Objective.OfType<Saf>().Single();
        Assert.Equal((0.3, 5.0, 2, 3), (saf.Lambda, saf.Tau, saf.Lag, saf.StartEpoch));
        var mesa = TrainingJob.RecipeFor(new TrainJobSpec { Method = "mesa", BatchSize = 100 }, trainCount: 5000).Objective.OfType<Mesa>().Single();
        Assert.Equal((0.98, 0.8), (mesa.Decay, mesa.Lambda));   // the average spans one epoch of 50 batches
        Assert.Equal(new Winsorized(3), TrainingJob.RecipeFor(new TrainJobSpec { Method = "winsorized" }.With("winsorC", 3)).Gradient);
        Assert.IsType<M3>(TrainingJob.RecipeFor(new TrainJobSpec { Method = "m3" }).Gradient);
        Assert.IsType<Rm3>(TrainingJob.RecipeFor(new TrainJobSpec { Method = "rm3" }).Gradient);
        Assert.IsType<Backpropagation>(TrainingJob.RecipeFor(new TrainJobSpec()).Gradient);
    }

    [Fact]
    public void SgldKeepsLrAsTheStepOnTheMeanLoss()
    {
        var spec = new TrainJobSpec { Method = "sgld", LearningRate = 0.05, Epochs = 4, BatchSize = 100 }.With("temperature", 0.5);
        var recipe = TrainingJob.RecipeFor(spec, trainCount: 1000);   // 10 batches × 4 epochs = 40 updates
        var sgld = Assert.IsType<Sgld>(recipe.Update);
        Assert.Equal(new Sgld(0.5, 1000, BurnIn: 20, Thin: 2), sgld);
        Assert.Equal(2 * 0.05 / 1000, recipe.LearningRate);
    }

    [Fact]
    public void MethodsCombineWithPlusAndAtMostOneGradientProcedure()
    {
        var r = TrainingJob.RecipeFor(new TrainJobSpec { Method = "sam+fam+saf" });
        Assert.Equal(new Sam(0.05), r.Gradient);
        Assert.Equal(["cross_entropy", "fam", "saf"], r.Objective.Select(t => t.Name));
        Assert.IsType<Sgld>(TrainingJob.RecipeFor(new TrainJobSpec { Method = "sgld+mesa" }).Update);
        Assert.Contains("choose one", Assert.ThrowsAny<BasinException>(() => TrainingJob.RecipeFor(new TrainJobSpec { Method = "winsorized+rm3" })).Message);
        Assert.Contains("twice", Assert.ThrowsAny<BasinException>(() => TrainingJob.RecipeFor(new TrainJobSpec { Method = "fam+fam" })).Message);
        Assert.Contains("unknown method 'sharpness'", Assert.ThrowsAny<BasinException>(() => TrainingJob.RecipeFor(new TrainJobSpec { Method = "sam+sharpness" })).Message);
    }

    /// <summary>A run config as Basin stored it before the method catalog: every method setting as a flat property.</summary>
    const string OldFormatConfig = """
        {"dataset":"moons","dataPath":null,"samples":64,"testSamples":32,"labelNoise":0,"model":"mlp:8","optimizer":"sgd",
         "learningRate":0.05,"momentum":0.9,"nesterov":false,"weightDecay":0,"schedule":"constant","stepEpochs":10,"stepGamma":0.1,
         "warmupSteps":0,"method":"sam+fam+saf","rho":null,"eta":0.01,"famLambda":0.2,"famLayer":null,"famDetached":true,"famProbes":1,
         "safLambda":null,"safTau":5,"safLag":2,"safStart":null,"mesaDecay":null,"temperature":1,"burnIn":null,"thin":null,"winsorC":1,
         "coherenceEvery":0,"epochs":10,"batchSize":16,"stopAtTrainLoss":null,"seed":1,"checkpointEveryBatches":0,"device":"cpu"}
        """;

    [Fact]
    public void StoredConfigsOfTheOldFormatStillLoadWithTheirValues()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(OldFormatConfig);
        var spec = TrainJobSpec.FromStored(doc.RootElement, "old");
        var r = TrainingJob.RecipeFor(spec);
        Assert.Equal(new Sam(0.05), r.Gradient);
        // Recorded before FAM's normalization option: the unnormalized form that run used.
        Assert.Equal(new Fam(0.2, null, FamCurvature.Detached) { Normalization = FamNormalization.None }, r.Objective.OfType<Fam>().Single());
        var saf = r.Objective.OfType<Saf>().Single();
        Assert.Equal((0.3, 5.0, 2, 3), (saf.Lambda, saf.Tau, saf.Lag, saf.StartEpoch));
        // Written back, the flat keys stay flat (sweep files and stored configs keep one format).
        var json = System.Text.Json.JsonSerializer.Serialize(spec, Basin.IO.Json.Options);
        Assert.Contains("\"famLambda\": 0.2", json);
        Assert.DoesNotContain("methodSettings", json);
    }

    [Fact]
    public void AnUnknownMethodSettingIsRefusedWithItsName()
    {
        var e = Assert.Throws<OptionException>(() => TrainingJob.RecipeFor(new TrainJobSpec { Method = "sam" }.With("rhoo", 0.1)));
        Assert.Contains("unknown method setting 'rhoo'", e.Message);
        Assert.Equal("--fam-lambda", Basin.Training.Catalog.MethodCatalog.Flag("famLambda"));
    }

    [Fact]
    public void ARunRecordsEverySettingItsMethodsUsedDefaultsIncluded()
    {
        var dir = Path.Combine(Path.GetTempPath(), "basin-recipefor-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var store = Basin.Experiments.RunStore.Open(dir);
            var spec = new TrainJobSpec { Dataset = "moons", Samples = 64, TestSamples = 32, Model = "mlp:8", Epochs = 4, BatchSize = 16, Method = "fam+saf" }
                .With("famLambda", 0.05);
            var result = TrainingJob.Run(spec, store);
            var config = store.Get(result.RunId).Config;
            Assert.Equal(0.05, config.GetProperty("famLambda").GetDouble());
            Assert.Equal("layer-inputs", config.GetProperty("famNormalization").GetString());
            Assert.Equal(1, config.GetProperty("safStart").GetInt32());   // ⌊0.3·4⌋, made explicit
            Assert.Equal(0.3, config.GetProperty("safLambda").GetDouble());
            Assert.False(config.TryGetProperty("rho", out _));           // sam is not in this run
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
