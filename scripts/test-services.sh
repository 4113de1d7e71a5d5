#!/usr/bin/env bash
# Installs what the tests' real services need, when root and missing: Debian's PostgreSQL server, SLURM (slurm-wlm,
# with munge) and Chromium (the HTML report tests open the pages in headless Chromium). The tests start private
# instances of their own in temporary folders (PostgreSQL on a free port of 127.0.0.1; munged, slurmctld and slurmd
# with their own socket, ports and files) and stop them by PID; the system's services are not started. Safe to run any number of times; prints only when it does something.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
{ command -v sbatch && { command -v slurmctld || [ -x /usr/sbin/slurmctld ]; } && { command -v munged || [ -x /usr/sbin/munged ]; }; } \
  >/dev/null 2>&1 || missing+=(slurm-wlm)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "basin: installing ${missing[*]} for the run-store, cluster and report tests (Debian packages)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages from starting the system's services: the tests start their own.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1; fi
  if ! apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    apt-get install -y -q "${missing[@]}" >/dev/null
  fi
  if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
else
  echo "basin: ${missing[*]} not installed; the run-store, cluster and report tests will fail. Run as root, or" \
    "'sudo apt-get install ${missing[*]}'" >&2
fi
