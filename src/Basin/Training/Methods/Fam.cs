using Basin.Native;
using System.Text.Json;
using Basin.Training.Catalog;
using Basin.Curvature;
using Basin.Flatness;
using Basin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Basin.Training.Methods;

/// <summary>
/// FAM ("FAM: Relative Flatness Aware Minimization", 2023): adds λ·κ_Tr(W)/m of one linear layer with m inputs per
/// neuron, measured on the mini-batch, to the loss, as the paper does (<see cref="Normalization"/> = None drops the 1/m).
/// κ_Tr = Σ_{s,t} ⟨W_s, W_t⟩ Tr(H_{s,t}) with H the Hessian of the batch's mean cross-entropy by W
/// (see <see cref="RelativeFlatness"/>).
/// <list type="bullet">
/// <item>The head (default): the closed form for softmax cross-entropy, <see cref="RelativeFlatness.TraceTerm"/>, on the
/// features of the objective's own forward pass — no extra forward pass, differentiable end to end.</item>
/// <item>Any other linear layer: the unbiased rank-one estimator E[⟨V, H V⟩] with V = (Wδ)εᵀ (δ, ε Rademacher),
/// <see cref="Probes"/> probes per step, through double backward (and a third-order backward for the full gradient).
/// Much slower; it also covers objectives whose curvature has no closed form.</item>
/// </list>
/// On a model with a bottleneck (<see cref="BottleneckClassifier"/>, spec "…+bottleneck:K") the default stays the head,
/// now Linear(K → classes) on the K bottleneck features, which is what the FAM paper regularizes; Layer "bottleneck"
/// targets the bottleneck itself.
/// </summary>
public sealed record Fam(double Lambda = Fam.DefaultLambda, string? Layer = null,
    FamCurvature Curvature = FamCurvature.Full) : IObjectiveTerm
{
    /// <summary>The FAM paper's λ on Fashion-MNIST and CIFAR-10 (a weight of the normalized κ_Tr/m).</summary>
    public const double DefaultLambda = 0.1;

    /// <summary>Whether λ weighs κ_Tr/m (the paper's form, the default) or κ_Tr.</summary>
    public FamNormalization Normalization { get; init; } = FamNormalization.LayerInputs;

    /// <summary>Rank-one probes per step for a non-head layer (the estimator path).</summary>
    public int Probes { get; init; } = 1;

    public string Name => "fam";

    /// <summary>Checks λ and that <see cref="Layer"/> names a Linear layer of <paramref name="model"/> (before a run starts).</summary>
    public void Check(Classifier model)
    {
        if (!(Lambda >= 0) || double.IsInfinity(Lambda)) throw new BasinException($"FAM λ must be a finite number ≥ 0, got {Lambda}");
        if (Probes < 1) throw new BasinException($"FAM needs at least 1 probe per step, got {Probes}");
        Resolve(model);
    }

    public Tensor Compute(ObjectiveContext context)
    {
        var layer = Resolve(context.Model);
        if (ReferenceEquals(layer, context.Model.Head))
        {
            var w = layer.weight!;
            var b = layer.bias;
            var kappa = Curvature == FamCurvature.Full
                ? RelativeFlatness.TraceTerm(context.Features, w, b)
                : DetachedTrace(context.Features, w, b);
            return Weigh(kappa, w);
        }
        return Weigh(Estimate(context, layer), layer.weight!);
    }

    /// <summary>λ·κ (or λ·κ/m with m = the layer's inputs), the scalar kept alive for the native call.</summary>
    Tensor Weigh(Tensor kappa, Tensor weight)
    {
        double factor = Normalization == FamNormalization.LayerInputs ? Lambda / weight.shape[1] : Lambda;
        using var s = factor.ToScalar();
        return kappa.mul(s);
    }

    /// <summary>κ = Σ_{s,t} (W Wᵀ)[s,t]·T[s,t] with T[s,t] = (1/N) Σ_n ‖φ_n‖² (diag p_n − p_n p_nᵀ)[s,t] held
    /// constant.</summary>
    static Tensor DetachedTrace(Tensor features, Tensor weight, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        Tensor t;
        using (no_grad())
        {
            var phi = features.detach();
            var p = nn.functional.softmax(nn.functional.linear(phi, weight.detach(), bias?.detach()), 1);
            var norms = phi.pow(Scalars.Two).sum(1, keepdim: true);                 // ‖φ_n‖², [N,1]
            var weighted = p.mul(norms);                                    // ‖φ_n‖² p_n
            using var count = ((double)phi.shape[0]).ToScalar();
            t = diag(weighted.sum(dim: 0)).sub(weighted.T.mm(p)).div(count);
        }
        return weight.mm(weight.T).mul(t).sum().MoveToOuterDisposeScope();
    }

    /// <summary>⟨V, H V⟩ averaged over probes; H is the Hessian of the batch's mean cross-entropy by the layer's weight.</summary>
    Tensor Estimate(ObjectiveContext context, Linear layer)
    {
        var w = layer.weight!;
        // Hessian-vector products need the forward pass's graph (a no_grad evaluation has none; autograd would abort).
        if (!context.Logits.requires_grad || !w.requires_grad)
            throw new BasinException($"FAM on layer '{Layer}' estimates curvature by double backward: evaluate it with gradients enabled " +
                "and a trainable layer");
        var loss = nn.functional.cross_entropy(context.Logits, context.Batch.Labels);
        var g = torch.autograd.grad([loss], [w], create_graph: true, retain_graph: true)[0];
        Tensor? sum = null;
        bool full = Curvature == FamCurvature.Full;
        for (int i = 0; i < Probes; i++)
        {
            var delta = Rademacher(w.shape[1], w);
            var epsilon = Rademacher(w.shape[1], w);
            var v = outer(w.mv(delta), epsilon);                   // V = (Wδ)εᵀ, a function of W
            // H V by differentiating ⟨g, V⟩ with V held fixed.
            var hv = torch.autograd.grad([g.mul(v.detach()).sum()], [w], create_graph: full, retain_graph: true)[0];
            // κ(W) = ⟨V(W), H(W) V(W)⟩ has gradient 2·(∂V/∂W)ᵀ HV + ⟨V, (∂H/∂W) V⟩. hv was taken with V held fixed, so
            // ⟨V, hv⟩ carries (∂V/∂W)ᵀ HV once and the H term; 2⟨V, HV⟩ − ⟨V, HV⟩(detached) carries 2·(∂V/∂W)ᵀ
            // HV with the same value. Full: both V terms and the H term; Detached (H held fixed): the V terms only.
            var vTerms = v.mul(hv.detach()).sum().mul(Scalars.Two).sub(v.detach().mul(hv.detach()).sum());
            var term = full
                ? vTerms.add(v.detach().mul(hv).sum(), Scalars.One).sub(v.detach().mul(hv.detach()).sum())
                : vTerms;
            sum = sum is null ? term : sum.add(term, Scalars.One);
        }
        using var probes = ((double)Probes).ToScalar();
        return sum!.div(probes);
    }

    static Tensor Rademacher(long n, Tensor like) =>
        randint(0, 2, [n], dtype: like.dtype, device: like.device).mul(Scalars.Two).sub(Scalars.One);

    Linear Resolve(Classifier model)
    {
        if (Layer is null || Layer == model.HeadName) return model.Head;
        var modules = model.named_modules().Where(nm => nm.name.Length > 0).ToDictionary(nm => nm.name, nm => nm.module);
        var linear = modules.Where(kv => kv.Value is Linear).Select(kv => kv.Key).ToArray();
        if (!modules.TryGetValue(Layer, out var module))
            throw new BasinException($"FAM layer '{Layer}' does not exist in {model.Spec}; linear layers: {string.Join(", ", linear)}");
        return module as Linear
            ?? throw new BasinException($"FAM layer '{Layer}' is a {module.GetType().Name}, not a linear layer; linear layers of " +
            $"{model.Spec}: {string.Join(", ", linear)}");
    }
}

/// <summary>FAM in the method catalog: --fam-lambda, --fam-normalization, --fam-layer, --fam-detached, --fam-probes.</summary>
sealed class FamEntry : MethodEntry
{
    public override int Order => 30;
    static readonly Setting<double> Lambda = Setting.Of("famLambda",
        "FAM: weight λ ≥ 0 of the layer's relative flatness κ_Tr/m (m: its inputs per neuron); 0.1 is the FAM paper's value",
        Fam.DefaultLambda, Check.NonNegative);
    static readonly Setting<string> Normalization = Setting.Of("famNormalization",
        "FAM: layer-inputs (λ·κ_Tr/m, the FAM paper's objective) or none (λ·κ_Tr, m times stronger)",
        FamNormalizations.Names[0]) with { Choices = FamNormalizations.Names };
    static readonly Setting<string?> Layer = Setting.Derived<string?>("famLayer",
        "FAM: linear layer to flatten; a layer other than the head (e.g. the bottleneck) uses the rank-one estimator", _ => null,
        "the head");
    static readonly Setting<bool> Detached = Setting.Of("famDetached",
        "FAM: detach the curvature, as the reference code does (gradient only through the weights)", false);
    static readonly Setting<int> Probes = Setting.Of("famProbes", "FAM: rank-one probes per step for a non-head layer", 1,
        (x, key) => Check.AtLeast(x, 1, key));

    public override string Name => "fam";
    public override MethodStage Stage => MethodStage.ObjectiveTerm;
    public override string Summary => "relative-flatness-aware minimization: + λ·κ_Tr/m of the head (FAM, 2023)";
    public override IReadOnlyList<MethodSetting> Settings => [Lambda, Normalization, Layer, Detached, Probes];

    public override Recipe Apply(Recipe recipe, IReadOnlyDictionary<string, JsonElement> values, MethodContext context)
    {
        var layer = Layer.Value(values, context);
        return recipe.With(new Fam(Lambda.Value(values, context), string.IsNullOrWhiteSpace(layer) ? null : layer.Trim(),
            Detached.Value(values, context) ? FamCurvature.Detached : FamCurvature.Full)
        {
            Probes = Probes.Value(values, context),
            Normalization = FamNormalizations.Parse(Normalization.Value(values, context), Normalization.Key),
        });
    }
}
