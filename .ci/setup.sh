#!/usr/bin/env bash
# Install everything the project needs, idempotently. Each part is its own script so a
# failure names what broke.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "python environment"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[dev]'

for part in .ci/install-*.sh; do
  [ -e "$part" ] || continue
  step "$(basename "$part" .sh)"
  bash "$part"
done

step "bench baseline (zwarm 3.9.0 from the package index)"
.venv/bin/python -c "from bench.baseline import load_sessions; load_sessions()"
