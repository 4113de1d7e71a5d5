#!/usr/bin/env bash
# The small Sagun / mode-connectivity study of docs/results.md ("Loss landscapes, the Hessian's bulk and outliers").
# Trains the runs into $STUDY_RUNS (default runs/landscape-study), then measures and connects them; the JSON outputs go to
# $STUDY_OUT (default runs/landscape-study/out). About 10 minutes of one core on an idle machine.
#   scripts/landscape-study.sh
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
basin="${BASIN:-$root/basin}"
export BASIN_RUNS="${STUDY_RUNS:-$root/runs/landscape-study}"
out="${STUDY_OUT:-$BASIN_RUNS/out}"
mkdir -p "$BASIN_RUNS" "$out"
train() { "$basin" train --threads 1 --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runId"])'; }
fm=(--samples 5000 --test-samples 2000 --seed 1)

# (a), (b): MLPs of width 32, 64, 128 and LeNet-5 on 5,000 Fashion-MNIST images (SGD lr 0.05, momentum 0.9, batch 128).
declare -A run
for w in 32 64 128; do run[mlp$w]=$(train --model mlp:$w "${fm[@]}" --epochs 15); done
run[lenet5]=$(train --model lenet5 "${fm[@]}" --epochs 8)
# (c): the same MLP on 8 and 25 Gaussian clusters, one class per cluster.
run[g8]=$(train --model mlp:32 --dataset 8gaussians --epochs 15 --seed 1)
run[g25]=$(train --model mlp:32 --dataset 25gaussians --epochs 15 --seed 1)
for name in mlp32 mlp64 mlp128 lenet5 g8 g25; do
  "$basin" geometry --run "${run[$name]}" --layer all --measures outliers,density --samples 1000 --threads 1 --json \
    --plot "$out/density-$name.png" > "$out/measure-$name.json"
done
for name in mlp32 mlp64 mlp128; do
  "$basin" geometry --run "${run[$name]}" --layer all --measures hessian-trace-weight --hutchinson --trace-error 0.03 --samples 1000 \
    --threads 1 --json > "$out/trace-$name.json"
done
# (d): one initialization (seed 1), small batch 32 at lr 0.01 for 60 epochs, large batch 1024 at lr 0.05 for 150 epochs.
sb=$(train --model mlp:64 "${fm[@]}" --batch-size 32 --lr 0.01 --epochs 60)
lb=$(train --model mlp:64 "${fm[@]}" --batch-size 1024 --lr 0.05 --epochs 150)
"$basin" landscape "$lb" --directions to "$sb" --range=-0.5:1.5 --steps 41 --samples 5000 --test-samples 2000 --threads 1 --json > "$out/d-line.json"
"$basin" connect "$lb" "$sb" --curve bezier --epochs 10 --samples 5000 --test-samples 2000 --threads 1 --json > "$out/d-connect.json"
for end in lb sb; do
  "$basin" geometry --run "${!end}" --layer all --measures outliers --samples 1000 --threads 1 --json > "$out/measure-$end.json"
done
# Contrast: two initializations (seeds 1 and 2) of the same MLP, plain and aligned by weight matching.
s2=$(train --model mlp:64 --samples 5000 --test-samples 2000 --seed 2 --epochs 15)
"$basin" connect "${run[mlp64]}" "$s2" --curve bezier --epochs 10 --samples 5000 --test-samples 2000 --threads 1 --json > "$out/seeds-connect.json"
"$basin" landscape "${run[mlp64]}" --directions to "$s2" --align --range=-0.5:1.5 --steps 41 --samples 5000 --test-samples 2000 \
  --threads 1 --json > "$out/seeds-aligned-line.json"
echo "outputs in $out"
