#!/usr/bin/env python3
"""Prints the tables and statistics of the pruning robustness study (docs/results.md, issue 13 science (c)).

Usage: robustness-study-table.py OUT [MODELS_CSV]
OUT: the folder `basin robustness` wrote (result.json and geometry-RUN.csv; the per-sample CSVs are not in the repo);
MODELS_CSV (default docs/data/robustness/models.csv): run,method,seed,... naming each run.
"""
import csv, json, math, os, statistics as st, sys

out = sys.argv[1]
models = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "data",
                                                             "robustness", "models.csv")
label = {row["run"]: (row["method"], int(row["seed"])) for row in csv.DictReader(open(models))}
res = json.load(open(os.path.join(out, "result.json")))
runs = res["runs"]
n = res["samples"]


def median(rows, key):
    return st.median(float(x[key]) for x in rows if x[key] not in ("NaN", ""))


per = {}
for r in runs:
    rows = list(csv.DictReader(open(os.path.join(out, f"geometry-{r['runId']}.csv"))))
    clean = [x for x in rows if x["corruption"] == "clean"]
    corr = [x for x in rows if x["corruption"] != "clean"]
    cells = len(corr) // n
    correct = [0.0] * n                      # per sample: fraction of corrupted sets classified correctly
    for x in corr:
        correct[int(x["sample"])] += int(x["correct"]) / cells
    per[r["runId"]] = dict(ps=correct, clean=r["cleanAccuracy"], corr=r["meanCorruptedAccuracy"], sp=r["weightSparsity"],
                           th_c=median(clean, "theta_y_deg"), th_x=median(corr, "theta_y_deg"), h_c=median(clean, "h_norm"),
                           h_x=median(corr, "h_norm"), m_c=median(clean, "geo_margin"), m_x=median(corr, "geo_margin"),
                           auc_a=r["flipAucAngle"], auc_l=r["flipAucLength"], auc_m=r["fragilityAucMargin"],
                           zero=sum(c["zeroFeatures"] for c in r["cells"]), bias=median(clean, "bias_share"))

order = []
for r in runs:
    if label[r["runId"]][0] not in order:
        order.append(label[r["runId"]][0])
dense = {label[r["runId"]][1]: r["runId"] for r in runs if label[r["runId"]][0] == "dense"}
diff = {}
print("| model | seed | weight sparsity | clean acc | mean corrupted acc | mean corrupted − dense (points) ± SE | median θ_y clean → "
      "corrupted | median ‖h‖ clean → corrupted | median m_geo clean → corrupted | AUC Δθ_y | AUC −Δ‖h‖ | AUC m_geo→fragile |")
print("|---|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|")
for m in order:
    for r in runs:
        rid = r["runId"]
        if label[rid][0] != m:
            continue
        p, s = per[rid], label[rid][1]
        d = [a - b for a, b in zip(p["ps"], per[dense[s]]["ps"])]
        mean, se = st.mean(d), st.stdev(d) / math.sqrt(n)
        diff[(m, s)] = (mean, se)
        sign = lambda v: f"{100 * v:+.2f}".replace("-", "−")
        print(f"| {m} | {s} | {100 * p['sp']:.1f} % | {100 * p['clean']:.2f} | {100 * p['corr']:.2f} | {sign(mean)} ± {100 * se:.2f} | "
              f"{p['th_c']:.1f}° → {p['th_x']:.1f}° | {p['h_c']:.2f} → {p['h_x']:.2f} | {p['m_c']:.3f} → {p['m_x']:.3f} | "
              f"{p['auc_a']:.3f} | {p['auc_l']:.3f} | {p['auc_m']:.3f} |")
print()
print("zero features:", sum(v["zero"] for v in per.values()))
for m in order:
    ids = [k for k in per if label[k][0] == m]
    bias = [per[k]["bias"] for k in ids]
    print(f"{m}: mean corrupted {100 * st.mean(per[k]['corr'] for k in ids):.2f} %, "
          f"clean {100 * st.mean(per[k]['clean'] for k in ids):.2f} %, median bias share {min(bias):.3f}-{max(bias):.3f}")
    if m != "dense":
        d = [diff[(m, s)][0] for s in sorted(dense)]
        half = 4.303 * st.stdev(d) / math.sqrt(len(d))       # t(0.975, 2 df): 3 seeds
        print(f"   − dense over seeds: {100 * st.mean(d):+.2f} [{100 * (st.mean(d) - half):+.1f}, {100 * (st.mean(d) + half):+.1f}]")
# How much of the spread is the seed, how much the method: two-way table of mean corrupted accuracy, no replication.
grid = {(label[k][0], label[k][1]): per[k]["corr"] for k in per}
seeds = sorted(dense)
grand = st.mean(grid.values())
ss_m = len(seeds) * sum((st.mean(grid[(m, s)] for s in seeds) - grand) ** 2 for m in order)
ss_s = len(order) * sum((st.mean(grid[(m, s)] for m in order) - grand) ** 2 for s in seeds)
ss_t = sum((v - grand) ** 2 for v in grid.values())
print(f"sum of squares of mean corrupted accuracy: method {ss_m / ss_t:.2f}, seed {ss_s / ss_t:.2f}, "
      f"residual {(ss_t - ss_m - ss_s) / ss_t:.2f} of the total")

sim = res["similarity"]
same_m = [p["corrupted"]["kappa"] for p in sim if label[p["a"]][0] == label[p["b"]][0]]
same_s = [p["corrupted"]["kappa"] for p in sim if label[p["a"]][1] == label[p["b"]][1] and label[p["a"]][0] != label[p["b"]][0]]
print(f"kappa (corrupted): same method other seed {st.mean(same_m):.3f}, same seed other method {st.mean(same_s):.3f}")
for m in order:
    ks = [(p["corrupted"]["kappa"], label[p["b"] if label[p["a"]][0] == m else p["a"]][0]) for p in sim
          if (label[p["a"]][0] == m) != (label[p["b"]][0] == m) and label[p["a"]][1] == label[p["b"]][1]]
    by = {}
    for k, other in ks:
        by.setdefault(other, []).append(k)
    print(f"   {m} vs same seed: " + ", ".join(f"{o} {min(v):.2f}-{max(v):.2f}" for o, v in by.items()))
    km = [p["corrupted"]["kappa"] for p in sim if label[p["a"]][0] == m and label[p["b"]][0] == m]
    print(f"   {m} vs itself in other seeds: " + ", ".join(f"{k:.2f}" for k in km))
red = [p for p in res["redundancy"] if p["redundant"]]
print(f"redundant pairs: {len(red)} of {len(res['redundancy'])}:", ", ".join(f"{p['a']}~{p['b']}" for p in red))
for a, b in [("gaussian_noise", "shot_noise"), ("gaussian_noise", "speckle_noise"), ("shot_noise", "speckle_noise"),
             ("shot_noise", "impulse_noise")]:
    for p in res["redundancy"]:
        if {p["a"], p["b"]} == {a, b}:
            print(f"   {a}~{b}: rho {p['dropCorrelation']:.3f}, jaccard {p['failureJaccard']:.3f}")


def rank(v):
    o = sorted(range(len(v)), key=lambda i: v[i])
    r, i = [0.0] * len(v), 0
    while i < len(o):
        j = i
        while j + 1 < len(o) and v[o[j + 1]] == v[o[i]]:
            j += 1
        for t in range(i, j + 1):
            r[o[t]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = rank(x), rank(y)
    mx, my = st.mean(rx), st.mean(ry)
    return sum((a - mx) * (b - my) for a, b in zip(rx, ry)) / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))


ids = list(per)
drop = [per[i]["corr"] - per[i]["clean"] for i in ids]
for name, f in [("median rise of θ_y", lambda p: p["th_x"] - p["th_c"]), ("clean median ‖h‖", lambda p: p["h_c"]),
                ("share of ‖h‖ kept", lambda p: p["h_x"] / p["h_c"]), ("clean median m_geo", lambda p: p["m_c"]),
                ("clean median θ_y", lambda p: p["th_c"])]:
    print(f"Spearman(corrupted − clean accuracy, {name}) over {len(ids)} models = {spearman([f(per[i]) for i in ids], drop):+.2f}")
print("most fragile:", [s["sample"] for s in res["mostFragile"]])
print("most robust:", [s["sample"] for s in res["mostRobust"]])
