#!/usr/bin/env bash
# Run lint and the whole test suite. Tests run inside a fresh network namespace where
# only loopback exists, so no agent CLI, browser or editor can reach the network.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check zwarm_ls tests bench

# The real-agent tests are written against these exact CLI versions.
bin=.ci-cache/agents/node_modules/.bin
check_version() {  # name wanted actual
  case "$3" in
    *"$2"*) echo "$1 $2: ok" ;;
    *) echo "$1: want $2, found '$3' (run bash .ci/install-agents.sh)" >&2; exit 1 ;;
  esac
}
check_version codex "${ZWARM_CODEX_VERSION:-0.169.0}" "$("$bin/codex" --version 2>&1 || true)"
check_version claude "${ZWARM_CLAUDE_VERSION:-2.1.197}" "$("$bin/claude" --version 2>&1 || true)"

# Screenshots, screen dumps, editor logs and the JUnit report go to artifacts/ (ignored by
# git), where CI collects them; tests/artifacts.py has the same default.
export ZWARM_ARTIFACTS="${ZWARM_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$ZWARM_ARTIFACTS"
echo "test artifacts: $ZWARM_ARTIFACTS"
report="$ZWARM_ARTIFACTS/junit.xml"
# pytest-timeout fails a hung test after 5 min (pyproject); this bounds the whole run, so
# a hang outside any test still ends red instead of running into CI's own limit.
run_tests="timeout -k 60 2700 .venv/bin/python -m pytest -q -p no:cacheprovider -rs --junitxml=$report ${PYTEST_ARGS:-}"
status=0
if unshare -n true 2>/dev/null; then
  unshare -n sh -c "ip link set lo up && $run_tests" || status=$?
else
  echo "warning: cannot create a network namespace; running tests on the host network" >&2
  sh -c "$run_tests" || status=$?
fi
# The benchmarks in quick mode, so they cannot rot: a crash fails the run, the numbers
# (a shared CI box says little about speed) only go to the artifacts.
run_bench=".venv/bin/python -m bench --quick --results $ZWARM_ARTIFACTS/bench-quick.md"
if unshare -n true 2>/dev/null; then
  unshare -n sh -c "ip link set lo up && $run_bench" >/dev/null || status=$?
else
  sh -c "$run_bench" >/dev/null || status=$?
fi
# Say how many tests were skipped, so a skip can never hide in a green run.
skipped=$(grep -o 'skipped="[0-9]*"' "$report" | head -1 | grep -o '[0-9]*' || echo "?")
echo "tests skipped: $skipped"
if [ -n "${CI:-}" ] && [ "$skipped" != "0" ]; then
  echo "CI: no test may skip (the list is above, under 'short test summary info')" >&2
  status=1
fi
exit "$status"
