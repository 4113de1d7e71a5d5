#!/usr/bin/env python3
"""Prints the FAM study's table (docs/results.md) from docs/data/fam-study/*.json: mean ± sd over seeds."""
import glob, json, os, statistics, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "data", "fam-study")
order = ["sgd", "sam", "fam-0.01", "fam-0.1", "fam-1", "fam-0.1-bottleneck64", "sam+fam", "saf", "mesa"]
rows = {}
for path in sorted(glob.glob(os.path.join(root, "*.json"))):
    r = json.load(open(path))
    f = r["train"]["figures"]
    m = r["measure"]
    rows.setdefault(r["name"], []).append((r["seed"], f, m))

def stat(values, scale=1.0, digits=2):
    values = [v * scale for v in values if v is not None]
    if not values:
        return "–"
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{mean:.{digits}f} ± {sd:.{digits}f}" if len(values) > 1 else f"{mean:.{digits}f}"

def head(m, key):
    """A head-geometry figure from `basin measure --json` (first layer entry)."""
    layers = m.get("layers") or [m]
    first = layers[0]
    return first.get(key)

print("| method | seeds | test accuracy (%) | loss gap (test − train) | κ_Tr/m (head) | κ_Tr (head) | Hessian trace (head) | λ_max (head) | ms/step |")
print("|---|---|---|---|---|---|---|---|---|")
for name in order + sorted(set(rows) - set(order)):
    if name not in rows:
        continue
    rs = rows[name]
    def g(fn):
        out = []
        for _, f, m in rs:
            try:
                out.append(fn(f, m))
            except (KeyError, IndexError, TypeError):
                out.append(None)
        return out
    kappa = g(lambda f, m: head(m, "relativeFlatness")["value"])
    inputs = [64 if "bottleneck64" in name else 84] * len(rs)      # m: inputs per neuron of the head
    print("| " + " | ".join([
        name, ",".join(str(s) for s, _, _ in rs),
        stat(g(lambda f, m: f["testAccuracy"]), 100),
        stat(g(lambda f, m: f["gap"]), 1, 3),
        stat([k / n if k is not None and n else None for k, n in zip(kappa, inputs)], 1, 3),
        stat(kappa, 1, 2),
        stat(g(lambda f, m: head(m, "hessianTrace")["value"]), 1, 2),
        stat(g(lambda f, m: head(m, "topEigen")["values"][0]), 1, 3),
        stat(g(lambda f, m: f["secondsPerStep"]), 1000, 1),
    ]) + " |")
