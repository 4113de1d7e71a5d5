#!/usr/bin/env bash
# A private PostgreSQL server and one-node SLURM cluster on this machine, for running sweeps the way a cluster does
# (basin sweep submit --slurm) on a laptop or a single server. Everything (data, sockets, logs, PID files) lives in DIR;
# nothing of the system's services is used or started. Daemons run at nice 10 so the machine stays usable.
#
#   scripts/local-cluster.sh start DIR   # starts (or finds running) both; prints the two exports to use
#   scripts/local-cluster.sh env DIR     # prints the exports again
#   scripts/local-cluster.sh stop DIR    # stops every daemon by its PID file (SLURM's jobs get SIGTERM first)
#
# Needs Debian's postgresql and slurm-wlm (./test.sh installs them when root). Safe to run twice.
set -euo pipefail

cmd="${1:-}"; dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then echo "usage: $0 start|env|stop DIR" >&2; exit 2; fi
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
alive() { [ -f "$1" ] && kill -0 "$(head -1 "$1")" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1; }

exports() {
  echo "export SLURM_CONF=$dir/slurm/slurm.conf"
  echo "export BASIN_STORE=postgresql://basin@127.0.0.1:$(cat "$dir/pg/port")/basin"
}

start_pg() {
  mkdir -p "$dir/pg"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pg"
  if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
    as_pg "$pgbin/initdb" -D "$dir/pg/data" -U basin --auth=trust -E UTF8 >/dev/null
  fi
  [ -f "$dir/pg/port" ] || free_port > "$dir/pg/port"
  if ! alive "$dir/pg/data/postmaster.pid"; then
    as_pg nice -n 10 "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $(cat "$dir/pg/port") -k $dir/pg -c max_connections=100" start >/dev/null
  fi
  as_pg "$pgbin/psql" -h 127.0.0.1 -p "$(cat "$dir/pg/port")" -U basin -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'basin'" | grep -q 1 \
    || as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$(cat "$dir/pg/port")" -U basin basin
}

start_slurm() {
  local s="$dir/slurm"
  mkdir -p "$s/state" "$s/spool"
  chmod 711 "$s"
  [ -f "$s/munge.key" ] || { head -c 1024 /dev/urandom > "$s/munge.key"; chmod 400 "$s/munge.key"; }
  if ! alive "$s/munged.pid"; then
    munged --force --socket="$s/munge.socket" --key-file="$s/munge.key" --pid-file="$s/munged.pid" \
      --log-file="$s/munged.log" --seed-file="$s/munged.seed"
  fi
  if [ ! -f "$s/slurm.conf" ]; then
    cat > "$s/slurm.conf" <<CONF
ClusterName=basinlocal
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$s/munge.socket
CredType=cred/munge
StateSaveLocation=$s/state
SlurmdSpoolDir=$s/spool
SlurmctldPidFile=$s/slurmctld.pid
SlurmdPidFile=$s/slurmd.pid
SlurmctldLogFile=$s/slurmctld.log
SlurmdLogFile=$s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localnode NodeAddr=127.0.0.1 NodeHostname=$(hostname) CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  fi
  export SLURM_CONF="$s/slurm.conf"
  alive "$s/slurmctld.pid" || nice -n 10 slurmctld
  alive "$s/slurmd.pid" || nice -n 10 slurmd -N localnode
  for _ in $(seq 1 100); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || [ "$(sinfo -h -o %T 2>/dev/null)" = mixed ] \
      || [ "$(sinfo -h -o %T 2>/dev/null)" = allocated ] && return 0
    sleep 0.2
  done
  echo "local-cluster: SLURM did not come up; see $s/slurmctld.log and $s/slurmd.log" >&2
  return 1
}

stop_pid() {
  local f="$1"
  alive "$f" || return 0
  local pid; pid="$(head -1 "$f")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

case "$cmd" in
  start) start_pg; start_slurm; exports ;;
  env) exports ;;
  stop)
    if [ -f "$dir/slurm/slurm.conf" ] && alive "$dir/slurm/slurmctld.pid"; then
      SLURM_CONF="$dir/slurm/slurm.conf" scancel --signal=TERM --full "--user=$(id -un)" 2>/dev/null || true
      sleep 5   # workers write their checkpoints and give their points back
    fi
    stop_pid "$dir/slurm/slurmd.pid"; stop_pid "$dir/slurm/slurmctld.pid"; stop_pid "$dir/slurm/munged.pid"
    if alive "$dir/pg/data/postmaster.pid"; then as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null; fi ;;
  *) echo "usage: $0 start|env|stop DIR" >&2; exit 2 ;;
esac
