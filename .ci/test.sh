#!/usr/bin/env bash
# Run lint and the whole test suite. Tests run inside a fresh network namespace where
# only loopback exists, so no agent CLI, browser or editor can reach the network.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check zwarm_ls tests bench
mkdir -p artifacts
run_tests=".venv/bin/python -m pytest -q -p no:cacheprovider ${PYTEST_ARGS:-}"
if unshare -n true 2>/dev/null; then
  exec unshare -n sh -c "ip link set lo up && $run_tests"
else
  echo "warning: cannot create a network namespace; running tests on the host network" >&2
  exec sh -c "$run_tests"
fi
