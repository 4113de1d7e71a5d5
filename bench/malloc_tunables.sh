#!/usr/bin/env bash
# Wall, system time and page faults of one CLI training run with glibc's malloc defaults and with Basin's tunables
# (scripts/malloc-env.sh), alternating, and the ratio of the medians. Run from the repository root after ./basin
# has built the CLI. Usage: bench/malloc_tunables.sh [repeats=3]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
repeats="${1:-3}"
cli="$root/.basin/cli/Basin.Cli"
tunables="$(env -u GLIBC_TUNABLES bash -c ". '$root/scripts/malloc-env.sh'; printf %s \"\$GLIBC_TUNABLES\"")"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "load $(cat /proc/loadavg)"
run() { # $1 label, $2 GLIBC_TUNABLES value ("" = glibc defaults)
  rm -rf "$work/runs"
  local t; t="$( { env ${2:+GLIBC_TUNABLES=$2} ${2:--u GLIBC_TUNABLES} /usr/bin/time -f "%e %S %R" "$cli" train --model lenet5 --samples 2000 \
      --epochs 16 --threads 1 --runs "$work/runs" --json >/dev/null; } 2>&1 | tail -1)"
  echo "$1 $t" | tee -a "$work/times"
}
for _ in $(seq "$repeats"); do run defaults ""; run tunables "$tunables"; done
median() { grep "^$1 " "$work/times" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d="$(median defaults)"; t="$(median tunables)"
echo "columns: label, wall s, system s, minor page faults (lenet5, 16 epochs on 2000 images, 1 thread)"
echo "median wall: defaults $d s, tunables $t s, speed-up $(awk -v d="$d" -v t="$t" 'BEGIN {printf "%.2f", d / t}')x"
echo "load at the end $(cat /proc/loadavg)"
