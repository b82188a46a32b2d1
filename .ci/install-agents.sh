#!/usr/bin/env bash
# Install the real agent CLIs the real-agent tests and `make demo` drive, pinned, into a
# cache inside the repo (.ci-cache/agents, git-ignored). Idempotent: a second run only
# checks the versions. Tests look for the binaries in .ci-cache/agents/node_modules/.bin
# (or on PATH).
#
# Pins: on Node 20, a plain `npm install @anthropic-ai/claude-code` quietly picks 2.1.197
# (2.1.198+ need Node >= 22); we pin it explicitly so the version never drifts. The codex
# npm package carries its native binary in the optional dependency @openai/codex-linux-x64.
set -euo pipefail
cd "$(dirname "$0")/.."

CODEX_VERSION="${ZWARM_CODEX_VERSION:-0.169.0}"
CLAUDE_VERSION="${ZWARM_CLAUDE_VERSION:-2.1.197}"
DIR=.ci-cache/agents
BIN="$DIR/node_modules/.bin"

if ! command -v npm >/dev/null 2>&1; then
  echo "install-agents: npm is not installed (need Node >= 20 and npm)" >&2
  exit 1
fi

installed_version() {  # package name -> version in the cache, or empty
  local pkg_json="$DIR/node_modules/$1/package.json"
  [ -f "$pkg_json" ] && node -p "require('./$pkg_json').version" 2>/dev/null || true
}

mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || printf '{\n  "name": "zwarm-ls-agents",\n  "private": true\n}\n' > "$DIR/package.json"

want=()
[ "$(installed_version @openai/codex)" = "$CODEX_VERSION" ] && [ -x "$BIN/codex" ] \
  || want+=("@openai/codex@$CODEX_VERSION")
[ "$(installed_version @anthropic-ai/claude-code)" = "$CLAUDE_VERSION" ] && [ -x "$BIN/claude" ] \
  || want+=("@anthropic-ai/claude-code@$CLAUDE_VERSION")

if [ "${#want[@]}" -gt 0 ]; then
  echo "installing ${want[*]} into $DIR"
  (cd "$DIR" && npm install --no-audit --no-fund --save-exact "${want[@]}")
fi

# Both CLIs answer --version offline and instantly; a failure here means a broken install.
echo "codex:  $("$BIN/codex" --version)"
echo "claude: $("$BIN/claude" --version)"
