#!/usr/bin/env bash
# Install Ray (the `ray` executor, DESIGN.md §8, and the tests marked `ray`) into the
# project venv, pinned. Idempotent: a second run only checks the version. Ray is not a
# dependency of the package itself: only users of `[executor] kind = "ray"` need it.
set -euo pipefail
cd "$(dirname "$0")/.."

RAY_VERSION="${ZWARM_RAY_VERSION:-2.60.0}"
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  echo "install-ray: no .venv yet (run .ci/setup.sh)" >&2
  exit 1
fi

have=$("$PY" -c 'import importlib.metadata as m; print(m.version("ray"))' 2>/dev/null || true)
if [ "$have" = "$RAY_VERSION" ] && "$PY" -c 'import ray.dashboard, aiohttp' 2>/dev/null \
    && [ -x .venv/bin/ray ]; then
  echo "ray $RAY_VERSION: ok"
  exit 0
fi
echo "installing ray[default]==$RAY_VERSION into .venv (about a minute, ~400 MB)"
.venv/bin/pip install -q "ray[default]==$RAY_VERSION"
"$PY" -c 'import ray; print("ray", ray.__version__, "installed")'
