#!/usr/bin/env bash
# Starts one Basin sweep worker per host over ssh: the same `basin sweep worker` that SLURM's job array runs.
# Edit HOSTS, SWEEP, RUNS and BASIN for your machines. Every host needs Basin installed, the sweep file and the runs
# folder at the same paths (a shared file system), and must reach the PostgreSQL run store.
#
#   export BASIN_STORE=postgresql://USER:PASSWORD@DBHOST:5432/basin   # not written here: it may hold a password
#   basin sweep submit sweeps/fmnist-96.json --runs /shared/runs --slurm --dry-run   # registers the points once
#   docs/templates/ssh-workers.sh
#   basin sweep status sweeps/fmnist-96.json --runs /shared/runs
#
# A worker stops when no point is left (it waits while others still hold points, to take over any whose worker dies).
# Killing a host loses nothing: its point is claimed again after its lease (--lease, default 120 s).
set -euo pipefail

HOSTS=(node1 node2 node3)          # one worker per host; list a host twice for two workers
SWEEP=/shared/basin/sweeps/fmnist-96.json
RUNS=/shared/runs
BASIN=basin                         # the basin command on the hosts (e.g. the dotnet tool, or /opt/basin/basin)
THREADS=4                           # CPU threads per worker

: "${BASIN_STORE:?set BASIN_STORE to the PostgreSQL run store first}"
i=0
for host in "${HOSTS[@]}"; do
  # The store URL travels in the environment of the remote command, not on its command line.
  ssh "$host" "BASIN_STORE=$(printf %q "$BASIN_STORE") OMP_NUM_THREADS=$THREADS nohup $BASIN sweep worker $SWEEP --runs $RUNS \
    --worker $i --threads $THREADS </dev/null >$RUNS/worker-$host-$i.log 2>&1 &"
  echo "started worker $i on $host (log: $RUNS/worker-$host-$i.log)"
  i=$((i + 1))
done
