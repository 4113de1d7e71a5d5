#!/usr/bin/env bash
# Installs what the tests' real services need, when root and missing: Debian's PostgreSQL server (the run-store tests
# start a private server of their own in a temporary folder and stop it by its PID; the system's server is not started).
# Safe to run any number of times; prints only when it does something.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "basin: installing PostgreSQL for the run-store tests (Debian package postgresql)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package from starting the system's server: the tests start their own.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1; fi
    if ! apt-get install -y -q postgresql >/dev/null 2>&1; then
      apt-get update -q >/dev/null 2>&1 || true
      apt-get install -y -q postgresql >/dev/null
    fi
    if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
  else
    echo "basin: PostgreSQL not found (no initdb under /usr/lib/postgresql); the run-store tests will fail." \
      "Run as root, or 'sudo apt-get install postgresql'" >&2
  fi
fi
