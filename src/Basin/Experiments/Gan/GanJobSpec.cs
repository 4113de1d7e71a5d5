using Basin.Experiments;
using Basin.Experiments.Training;
using Basin.Experiments.Geometry;
using Basin.IO;
using TorchSharp;
using static TorchSharp.torch;
using Generator = Basin.Gan.Generator;
using Basin.Data;
using Basin.Gan;

namespace Basin.Experiments.Gan;

/// <summary>
/// Everything that defines one recorded WGAN run, as the user states it. Stored as the run's config (kind "gan"),
/// enough to resume it and to rebuild its networks for <see cref="GanInterpolationJob"/>.
/// </summary>
public sealed record GanJobSpec
{
    /// <summary>8gaussians, 25gaussians, swissroll (MLP generator and critic) or fashion-mnist (conv generator and critic).</summary>
    public string Dataset { get; init; } = "8gaussians";
    /// <summary>Folder holding the Fashion-MNIST IDX files (else the usual search).</summary>
    public string? DataPath { get; init; }
    /// <summary>Real samples: toy points drawn (default 10,000), or the first N Fashion-MNIST training images (default all).</summary>
    public int? Samples { get; init; }
    /// <summary>lp, gp or clip.</summary>
    public string Penalty { get; init; } = "lp";
    public double Lambda { get; init; } = 10;
    public double ClipValue { get; init; } = 0.01;
    /// <summary>interpolates (on lines between real and fake) or perturbations (of real samples).</summary>
    public string Sampling { get; init; } = "interpolates";
    public double PerturbationScale { get; init; } = 0.1;
    public int Iterations { get; init; } = 20_000;
    public int CriticSteps { get; init; } = 5;
    public int WarmupIterations { get; init; } = 25;
    public int WarmupCriticSteps { get; init; } = 100;
    public int BatchSize { get; init; } = 256;
    /// <summary>rmsprop or adam.</summary>
    public string Optimizer { get; init; } = "rmsprop";
    public double? LearningRate { get; init; }
    public long Seed { get; init; } = 1;
    /// <summary>Hidden widths of the toy MLPs (default 512,512,512).</summary>
    public int[]? Hidden { get; init; }
    /// <summary>Width w of the conv generator and critic (default 64).</summary>
    public int Width { get; init; } = 64;
    /// <summary>Latent dimension (default 2 for toy data, 64 for images).</summary>
    public int? LatentDim { get; init; }
    /// <summary>Checkpoint every this many generator iterations (0: a tenth of the run, at least 1).</summary>
    public int CheckpointInterval { get; init; }
    public int ProgressInterval { get; init; } = 10;
    /// <summary>Exact W1 every this many iterations on toy data (0: only at the end).</summary>
    public int EvaluationInterval { get; init; }
    /// <summary>Points of each W1 measurement (toy) or samples of the Fréchet distance (fashion-mnist).</summary>
    public int EvaluationCount { get; init; } = 512;
    /// <summary>A classifier for the Fréchet distance on fashion-mnist: a train run id or a safetensors file (basin.spec
    /// metadata).</summary>
    public string? Classifier { get; init; }

    public bool IsImage => string.Equals(Dataset, "fashion-mnist", StringComparison.OrdinalIgnoreCase);

    public static IReadOnlyList<string> Datasets { get; } = ["8gaussians", "25gaussians", "swissroll", "fashion-mnist"];

    public LipschitzRegularization Regularization => Penalty.ToLowerInvariant() switch
    {
        "lp" => LipschitzRegularization.LipschitzPenalty,
        "gp" => LipschitzRegularization.GradientPenalty,
        "clip" => LipschitzRegularization.WeightClipping,
        _ => throw new BasinException($"unknown penalty '{Penalty}' (use lp, gp or clip)"),
    };

    public PenaltySampling PenaltySampling => Sampling.ToLowerInvariant() switch
    {
        "interpolates" => PenaltySampling.Interpolates,
        "perturbations" => PenaltySampling.RealPerturbations,
        _ => throw new BasinException($"unknown penalty sampling '{Sampling}' (use interpolates or perturbations)"),
    };

    public GanOptimizer GanOptimizer => Optimizer.ToLowerInvariant() switch
    {
        "rmsprop" => GanOptimizer.RmsProp,
        "adam" => GanOptimizer.Adam,
        _ => throw new BasinException($"unknown optimizer '{Optimizer}' (use rmsprop or adam)"),
    };

    /// <summary>Throws a <see cref="BasinException"/> naming the first bad setting (before anything is recorded).</summary>
    public void Validate()
    {
        if (!Datasets.Contains(Dataset.ToLowerInvariant()))
            throw new BasinException($"unknown dataset '{Dataset}' for a GAN (use {string.Join(", ", Datasets)})");
        _ = Regularization;
        _ = PenaltySampling;
        _ = GanOptimizer;
        if (Samples is < 2) throw new BasinException($"--samples must be at least 2, got {Samples}");
        if (Width < 1) throw new BasinException($"--width must be at least 1, got {Width}");
        if (LatentDim is < 1) throw new BasinException($"--latent must be at least 1, got {LatentDim}");
        if (Hidden is { } h && (h.Length == 0 || h.Any(x => x < 1))) throw new BasinException("--hidden needs positive widths, got " +
            $"[{string.Join(",", h)}]");
        if (Classifier is not null && !IsImage) throw new BasinException("--classifier applies to fashion-mnist only (toy runs " +
            "report the exact W1)");
        Training(null, 0).Validate();
    }

    /// <summary>The trainer's settings for this spec.</summary>
    public WganConfig Training(string? checkpointDirectory, int startIteration) => new(
        Regularization, Lambda, ClipValue, PenaltySampling, PerturbationScale, Iterations, CriticSteps, WarmupCriticSteps,
        WarmupIterations, BatchSize, GanOptimizer, LearningRate, Seed, checkpointDirectory,
        CheckpointInterval > 0 ? CheckpointInterval : Math.Max(1, Iterations / 10), ProgressInterval,
        IsImage ? 0 : (EvaluationInterval > 0 ? EvaluationInterval : Iterations), EvaluationCount, startIteration);

    /// <summary>Fresh networks for this spec (generator seeded Seed, critic Seed + 1).</summary>
    public (Generator Generator, Critic Critic) CreateNetworks()
    {
        if (IsImage)
            return (new ConvGenerator(LatentDim ?? 64, Width, Seed), new ConvCritic(Width, CriticNormalization.None, Seed + 1));
        return (new MlpGenerator(LatentDim ?? 2, 2, Hidden, Seed), new MlpCritic(2, Hidden, Seed + 1));
    }

    /// <summary>The real samples [N, ...] (toy points seeded by Seed).</summary>
    public Tensor LoadReal()
    {
        if (IsImage)
        {
            using var data = ImageDatasets.Load("fashion-mnist", Split.Train, DataPath, Samples);
            return data.Inputs.detach().clone();
        }
        using var toy = ToyDatasets.Create(Dataset.ToLowerInvariant(), Samples ?? 10_000, Seed);
        return toy.Inputs.detach().clone();
    }
}
