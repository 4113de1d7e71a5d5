#!/usr/bin/env bash
# The FAM study of docs/results.md: LeNet-5 on all 60,000 Fashion-MNIST training images, all 10,000 test images,
# 30 epochs, cosine schedule, SGD lr 0.05, momentum 0.9, weight decay 5e-4, batch 128; 3 seeds per configuration.
# Each (configuration, seed) has its own runs folder under $STUDY_RUNS; the script is safe to stop and run again:
# finished points are skipped and an interrupted run is resumed from its checkpoint.
# Results: one JSON per point in docs/data/fam-study/ (training figures + head geometry on 2,000 training images);
# scripts/fam-study-table.py turns them into the table of docs/results.md.
#   scripts/fam-study.sh [SEEDS...]        (default: 1 2 3)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
basin="${BASIN:-$root/basin}"   # BASIN: another launcher, e.g. a frozen copy of the CLI
runs="${STUDY_RUNS:-$root/runs/fam-study}"
out="$root/docs/data/fam-study"
epochs="${STUDY_EPOCHS:-30}"
threads="${STUDY_THREADS:-2}"
mkdir -p "$runs" "$out"
seeds=("$@"); [ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)

# name | model | method options
configs=(
  "sgd|lenet5|--method sgd"
  "sam|lenet5|--method sam --rho 0.05"
  "fam-0.01|lenet5|--method fam --fam-lambda 0.01"
  "fam-0.1|lenet5|--method fam --fam-lambda 0.1"
  "fam-1|lenet5|--method fam --fam-lambda 1"
  "fam-0.1-bottleneck64|lenet5+bottleneck:64|--method fam --fam-lambda 0.1"
  "sam+fam|lenet5|--method sam+fam --rho 0.05 --fam-lambda 0.1"
  "saf|lenet5|--method saf"
  "mesa|lenet5|--method mesa"
)

for seed in "${seeds[@]}"; do
  for c in "${configs[@]}"; do
    IFS='|' read -r name model opts <<<"$c"
    result="$out/$name-s$seed.json"
    [ -f "$result" ] && continue
    dir="$runs/$name-s$seed"
    mkdir -p "$dir"
    if ! grep -q '"runId"' "$dir/train.json" 2>/dev/null; then
      unfinished="$("$basin" runs list --runs "$dir" --json | python3 -c \
        'import json,sys; print(next((r["id"] for r in json.load(sys.stdin) if r["status"] != "finished"), ""))')"
      echo "$(date -u +%H:%M:%S) $name seed $seed ${unfinished:+(resuming $unfinished)}" >&2
      if [ -n "$unfinished" ]; then
        "$basin" train --resume "$unfinished" --runs "$dir" --threads "$threads" --json >"$dir/train.json.tmp"
      else
        # shellcheck disable=SC2086
        "$basin" train --model "$model" $opts --epochs "$epochs" --schedule cosine --lr 0.05 --momentum 0.9 \
          --weight-decay 5e-4 --batch-size 128 --seed "$seed" --runs "$dir" --threads "$threads" --json >"$dir/train.json.tmp"
      fi
      mv "$dir/train.json.tmp" "$dir/train.json"
    fi
    id="$(grep -o '"runId": *"[^"]*"' "$dir/train.json" | sed 's/.*"\([^"]*\)"$/\1/')"
    "$basin" geometry --run "$id" --runs "$dir" --measures relative-flatness,hessian-trace-weight,top-eigenvalues-weight --top 1 \
      --split train --samples 2000 --threads "$threads" --json >"$dir/measure.json"
    # Paths inside the runs folder are written relative to it ($STUDY_RUNS), so the committed JSON names no machine.
    printf '{"name": "%s", "seed": %s, "train": %s, "measure": %s}\n' "$name" "$seed" "$(cat "$dir/train.json")" \
      "$(cat "$dir/measure.json")" | sed "s#$runs/#\$STUDY_RUNS/#g" >"$result.tmp"
    mv "$result.tmp" "$result"
  done
done
