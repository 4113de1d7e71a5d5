#!/usr/bin/env bash
# Runs Basin's whole test suite (restores NuGet packages and installs test data as needed).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
cd "$root"
./scripts/setup.sh
./scripts/test-services.sh
. ./scripts/malloc-env.sh
log="$(mktemp)"
set +e
dotnet test tests/Basin.Tests/Basin.Tests.csproj -c Release --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for CI: "tests: N passed, N failed".
summary="$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+' "$log" | tail -1 || true)"
rm -f "$log"
if [ -n "$summary" ]; then
  failed="$(echo "$summary" | grep -Eo 'Failed: +[0-9]+' | grep -Eo '[0-9]+')"
  passed="$(echo "$summary" | grep -Eo 'Passed: +[0-9]+' | grep -Eo '[0-9]+')"
  echo "tests: $passed passed, $failed failed"
fi
exit "$status"
