using System.CommandLine;
using Basin.Runs;

namespace Basin.Cli.Commands;

/// <summary>The options that define a training run (shared by train and demo), mapped onto <see cref="TrainJobSpec"/>.</summary>
public sealed class TrainOptions
{
    static readonly TrainJobSpec D = new();

    public Option<string> Dataset { get; } = new("--dataset") { Description = "Data set: fashion-mnist, mnist, or a toy 2-D set (moons, spirals, 8gaussians, 25gaussians, swissroll)", DefaultValueFactory = _ => D.Dataset };
    public Option<string?> Data { get; } = new("--data") { Description = "Folder with the IDX files (default: $BASIN_DATA, /usr/share/datasets/NAME, ~/.cache/basin/NAME)" };
    public Option<long?> Samples { get; } = new("--samples") { Description = "Train on the first N training examples in file order (default: all)" };
    public Option<long?> TestSamples { get; } = new("--test-samples") { Description = "Evaluate on the first N test examples (default: all)" };
    public Option<double> LabelNoise { get; } = new("--label-noise") { Description = "Fraction of training examples given a different random label (0 to 1)", DefaultValueFactory = _ => 0 };
    public Option<string> Model { get; } = new("--model") { Description = "Model: lenet5, mlp, mlp:512,512, mlp:256,128:tanh, resnet, resnet:2", DefaultValueFactory = _ => D.Model };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "Update rule: sgd or adam", DefaultValueFactory = _ => D.Optimizer };
    public Option<double> Lr { get; } = new("--lr") { Description = "Learning rate", DefaultValueFactory = _ => D.LearningRate };
    public Option<double> Momentum { get; } = new("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => D.Momentum };
    public Option<bool> Nesterov { get; } = new("--nesterov") { Description = "Use Nesterov momentum" };
    public Option<double> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay α: adds α/2·‖w‖² to the loss", DefaultValueFactory = _ => 0 };
    public Option<string> Schedule { get; } = new("--schedule") { Description = "Learning-rate schedule: constant, step or cosine", DefaultValueFactory = _ => D.Schedule };
    public Option<int> StepEpochs { get; } = new("--step-epochs") { Description = "Step schedule: decay every this many epochs", DefaultValueFactory = _ => D.StepEpochs };
    public Option<double> Gamma { get; } = new("--gamma") { Description = "Step schedule: decay factor", DefaultValueFactory = _ => D.StepGamma };
    public Option<int> Warmup { get; } = new("--warmup") { Description = "Linear learning-rate warm-up over this many steps", DefaultValueFactory = _ => 0 };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Number of epochs", DefaultValueFactory = _ => D.Epochs };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => D.BatchSize };
    public Option<double?> StopAtLoss { get; } = new("--stop-at-loss") { Description = "Stop at the first epoch whose training loss is at or below this" };
    public Option<long> Seed { get; } = new("--seed") { Description = "Seed for initialization, shuffling and label noise", DefaultValueFactory = _ => D.Seed };
    public Option<int> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "Also checkpoint every N batches (default: at each epoch end)", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "cpu or cuda[:n] (this build has CPU libtorch only)", DefaultValueFactory = _ => D.Device };

    public Option<string> Method { get; } = new("--method") { Description = "Training method: sgd, sam, asam, fam, saf, mesa, sgld, winsorized, m3, rm3, or several joined by + (e.g. sam+fam; docs/methods.md)", DefaultValueFactory = _ => D.Method };
    public Option<double?> Rho { get; } = new("--rho") { Description = "SAM/ASAM radius ρ > 0 (default 0.05 for sam, 0.5 for asam)" };
    public Option<double> Eta { get; } = new("--eta") { Description = "ASAM's η in T = |w| + η", DefaultValueFactory = _ => D.Eta };
    public Option<double> FamLambda { get; } = new("--fam-lambda") { Description = "FAM: weight λ ≥ 0 of the relative flatness κ_Tr/m of the layer (m: its inputs per neuron); 0.1 is the FAM paper's value", DefaultValueFactory = _ => D.FamLambda };
    public Option<string> FamNormalization { get; } = FamNormalizationOption();
    public Option<string?> FamLayer { get; } = new("--fam-layer") { Description = "FAM: linear layer to flatten (default: the head; other layers use the rank-one estimator)" };
    public Option<bool> FamDetached { get; } = new("--fam-detached") { Description = "FAM: detach the curvature, as the reference code does (gradient only through the weights)" };
    public Option<int> FamProbes { get; } = new("--fam-probes") { Description = "FAM: rank-one probes per step for a non-head layer", DefaultValueFactory = _ => D.FamProbes };
    public Option<double?> SafLambda { get; } = new("--saf-lambda") { Description = "SAF/MESA: trajectory-loss weight λ ≥ 0 (default 0.3 for saf, 0.8 for mesa)" };
    public Option<double> SafTau { get; } = new("--saf-tau") { Description = "SAF/MESA: temperature τ > 0", DefaultValueFactory = _ => D.SafTau };
    public Option<int> SafLag { get; } = new("--saf-lag") { Description = "SAF: compare with the logits of this many epochs earlier (Ẽ ≥ 1)", DefaultValueFactory = _ => D.SafLag };
    public Option<int?> SafStart { get; } = new("--saf-start") { Description = "SAF/MESA: first epoch (0-based) with the trajectory loss (default ⌊0.3·epochs⌋)" };
    public Option<double?> MesaDecay { get; } = new("--mesa-decay") { Description = "MESA: EMA decay in [0, 1) (default 1 − 1/batches per epoch, within [0.9, 0.9998])" };
    public Option<double> Temperature { get; } = new("--temperature") { Description = "SGLD: temperature T ≥ 0 (1: posterior, 0: gradient descent)", DefaultValueFactory = _ => D.Temperature };
    public Option<long?> BurnIn { get; } = new("--burn-in") { Description = "SGLD: updates before samples are kept (default: half the run)" };
    public Option<long?> Thin { get; } = new("--thin") { Description = "SGLD: keep every N-th update after burn-in (default: about 10 samples)" };
    public Option<int> WinsorC { get; } = new("--winsor-c") { Description = "Winsorized GD: clip the c largest and smallest per-example values per coordinate", DefaultValueFactory = _ => D.WinsorC };
    public Option<int> CoherenceEvery { get; } = new("--coherence-every") { Description = "Log the batch's m-coherence every N steps to RUN/coherence.csv (0: never)", DefaultValueFactory = _ => 0 };

    public IEnumerable<Option> All => [Dataset, Data, Samples, TestSamples, LabelNoise, Model, Optimizer, Lr, Momentum, Nesterov, WeightDecay,
        Schedule, StepEpochs, Gamma, Warmup, Epochs, BatchSize, StopAtLoss, Seed, CheckpointEvery, Device,
        Method, Rho, Eta, FamLambda, FamNormalization, FamLayer, FamDetached, FamProbes, SafLambda, SafTau, SafLag, SafStart, MesaDecay,
        Temperature, BurnIn, Thin, WinsorC, CoherenceEvery];

    public TrainJobSpec Read(ParseResult p) => new()
    {
        Dataset = p.GetValue(Dataset)!,
        DataPath = p.GetValue(Data),
        Samples = p.GetValue(Samples),
        TestSamples = p.GetValue(TestSamples),
        LabelNoise = p.GetValue(LabelNoise),
        Model = p.GetValue(Model)!,
        Optimizer = p.GetValue(Optimizer)!,
        LearningRate = p.GetValue(Lr),
        Momentum = p.GetValue(Momentum),
        Nesterov = p.GetValue(Nesterov),
        WeightDecay = p.GetValue(WeightDecay),
        Schedule = p.GetValue(Schedule)!,
        StepEpochs = p.GetValue(StepEpochs),
        StepGamma = p.GetValue(Gamma),
        WarmupSteps = p.GetValue(Warmup),
        Epochs = p.GetValue(Epochs),
        BatchSize = p.GetValue(BatchSize),
        StopAtTrainLoss = p.GetValue(StopAtLoss),
        Seed = p.GetValue(Seed),
        CheckpointEveryBatches = p.GetValue(CheckpointEvery),
        Device = p.GetValue(Device)!,
        Method = p.GetValue(Method)!,
        Rho = p.GetValue(Rho),
        Eta = p.GetValue(Eta),
        FamLambda = p.GetValue(FamLambda),
        FamLayer = p.GetValue(FamLayer),
        FamDetached = p.GetValue(FamDetached),
        FamNormalization = p.GetValue(FamNormalization)!,
        FamProbes = p.GetValue(FamProbes),
        SafLambda = p.GetValue(SafLambda),
        SafTau = p.GetValue(SafTau),
        SafLag = p.GetValue(SafLag),
        SafStart = p.GetValue(SafStart),
        MesaDecay = p.GetValue(MesaDecay),
        Temperature = p.GetValue(Temperature),
        BurnIn = p.GetValue(BurnIn),
        Thin = p.GetValue(Thin),
        WinsorC = p.GetValue(WinsorC),
        CoherenceEvery = p.GetValue(CoherenceEvery),
    };

    static Option<string> FamNormalizationOption()
    {
        var o = new Option<string>("--fam-normalization")
        {
            Description = "FAM: layer-inputs (λ·κ_Tr/m, the FAM paper's objective) or none (λ·κ_Tr, m times stronger)",
            DefaultValueFactory = _ => D.FamNormalization,
        };
        o.AcceptOnlyFromAmong(Basin.Training.Methods.FamNormalizations.Names);
        return o;
    }
}
