#!/usr/bin/env bash
# Shared set-up for ./basin and ./test.sh: checks the .NET SDK and installs the real
# Fashion-MNIST data (Debian package dataset-fashion-mnist) when it is missing and we are root.
# Safe to run any number of times; prints only when it does something.
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "basin: the .NET SDK (dotnet) is not on PATH; install .NET SDK 10 first" >&2
  exit 1
fi

fmnist_dir=/usr/share/datasets/fashion-mnist
if [ -z "${BASIN_DATA:-}" ] && [ ! -f "$fmnist_dir/t10k-labels-idx1-ubyte.gz" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "basin: installing Fashion-MNIST (Debian package dataset-fashion-mnist)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; then
      apt-get update -q >/dev/null 2>&1 || true
      apt-get install -y -q dataset-fashion-mnist >/dev/null
    fi
  else
    echo "basin: Fashion-MNIST not found in $fmnist_dir; run 'sudo apt-get install dataset-fashion-mnist' or set BASIN_DATA" >&2
  fi
fi
