#!/usr/bin/env bash
# `make demo`: one real Codex CLI session supervised by zwarm-ls, offline, no accounts.
#
# The agent is the real `codex` CLI (pinned, from .ci-cache/agents). The MODEL is not
# real: it is tests/fakes/model_server.py, a scripted server on 127.0.0.1 that plays back
# the replies in scenario.json below. Everything runs inside a fresh network namespace
# (`unshare -n`) where only loopback exists, in a throwaway workspace under /tmp.
#
# Flow: write .zwarm/codex.toml (ordinary user config pointing codex at the server) ->
# `zwarm-ls delegate` -> `zwarm-ls traj ID --follow` prints the trajectory live ->
# `zwarm-ls converse ID ... --wait` resumes the same Codex thread -> `zwarm-ls sessions`.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

if [ "${1:-}" != "--inside-netns" ]; then
  [ -x .venv/bin/zwarm-ls ] || bash .ci/setup.sh
  bash .ci/install-agents.sh >/dev/null
  if unshare -n true 2>/dev/null; then
    exec unshare -n bash "$0" --inside-netns
  fi
  echo "demo: cannot create a network namespace (unshare -n needs root or user namespaces);" >&2
  echo "      running on the host network instead. Codex is configured to call only the" >&2
  echo "      local scripted server, with analytics and plugins off." >&2
else
  ip link set lo up
fi

CODEX="$REPO/.ci-cache/agents/node_modules/.bin/codex"
ZW="$REPO/.venv/bin/zwarm-ls"
PY="$REPO/.venv/bin/python"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/zwarm-demo.XXXXXX")"
PROJECT="$WORK/project"
mkdir -p "$PROJECT/.zwarm" "$WORK/home" "$WORK/codex-home"

banner() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

banner "SCRIPTED MODEL: no real LLM is called. Replies come from $WORK/scenario.json"
echo "   agent: $("$CODEX" --version) (the real CLI, really running commands in $PROJECT)"
echo "   network: $(if ip -o link 2>/dev/null | grep -qv ' lo:'; then echo host; else echo 'loopback only (unshare -n)'; fi)"

# What the "model" will answer, in order. Each reply waits a moment (hang) so you can
# watch the trajectory arrive step by step.
"$PY" - "$WORK/scenario.json" <<'PY'
import json, sys
patch = ("*** Begin Patch\n*** Add File: greet.py\n"
         "+def greet(name: str) -> str:\n+    return f\"hello, {name}\"\n+\n+\n"
         "+if __name__ == \"__main__\":\n+    print(greet(\"zwarm\"))\n*** End Patch\n")
def shell(cmd):
    return {"name": "exec_command", "arguments": {"cmd": cmd}}
scenario = {"responses": [
    {"hang": 1, "tool_calls": [shell("ls -la")]},
    {"hang": 1, "tool_calls": [shell("apply_patch <<'PATCH'\n" + patch + "PATCH\n")]},
    {"hang": 1, "tool_calls": [shell("python3 greet.py")]},
    {"hang": 1, "text": "Created greet.py with greet(name) and ran it: it prints 'hello, zwarm'.",
     "usage": {"input_tokens": 2400, "output_tokens": 160}},
    # turn 2 (converse): resumes the same Codex thread
    {"hang": 1, "tool_calls": [shell("grep -n 'def greet' greet.py")]},
    {"hang": 1, "text": "greet() is defined on line 1 of greet.py.",
     "usage": {"input_tokens": 1300, "output_tokens": 40}},
]}
json.dump(scenario, open(sys.argv[1], "w"), indent=2)
PY

# The scripted model server, as a process; it prints its port on the first line.
PORT_FILE="$WORK/model-server.port"
(cd "$REPO" && exec "$PY" -m tests.fakes.model_server --port 0 \
    --scenario "$WORK/scenario.json" --log "$WORK/model-requests.jsonl" \
    >"$PORT_FILE" 2>"$WORK/model-server.log") &
SERVER_PID=$!
cleanup() { kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
PORT="$(head -1 "$PORT_FILE")"
[ -n "$PORT" ] || { echo "demo: the model server did not start" >&2; cat "$WORK/model-server.log" >&2; exit 1; }

# Ordinary user config: this is what you would write for any Responses-API provider.
cat >"$PROJECT/.zwarm/codex.toml" <<EOF
# Written by .ci/demo.sh: Codex pointed at the scripted model server.
binary = "$CODEX"
model = "gpt-5.1-codex-mini"
sandbox = "workspace-write"          # the default; no bypass mode
extra_args = ["--disable", "plugins"]
model_provider = "scripted"

[analytics]
enabled = false

[model_providers.scripted]
name = "Scripted model server (demo)"
base_url = "http://127.0.0.1:$PORT/v1"
env_key = "SCRIPTED_MODEL_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[env]
HOME = "$WORK/home"
CODEX_HOME = "$WORK/codex-home"
SCRIPTED_MODEL_API_KEY = "not-a-real-key"
EOF
banner ".zwarm/codex.toml"
sed 's/^/   /' "$PROJECT/.zwarm/codex.toml"

cd "$PROJECT"
banner "zwarm-ls delegate (returns at once; the agent runs detached)"
ID="$("$ZW" delegate --json "Write greet.py with a greet(name) function and run it" \
      | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["sessionId"])')"
echo "   session $ID"

banner "zwarm-ls traj ${ID:0:8} --follow (live trajectory)"
"$ZW" traj "$ID" --follow

banner "zwarm-ls converse ${ID:0:8} ... --wait (resumes the same Codex thread)"
"$ZW" converse "$ID" "Where is greet defined?" --wait
"$ZW" traj "$ID" | awk '$2 == "t2"'

banner "zwarm-ls sessions"
"$ZW" sessions
banner "zwarm-ls show ${ID:0:8}"
"$ZW" show "$ID"

banner "what the agent left in the workspace"
ls -l "$PROJECT" | sed 's/^/   /'
echo "   \$ python3 greet.py -> $(python3 "$PROJECT/greet.py")"
echo
echo "Model requests Codex sent: $(wc -l <"$WORK/model-requests.jsonl") (logged in $WORK/model-requests.jsonl)"
echo "Workspace kept at $WORK (delete it when done). SCRIPTED MODEL: nothing here came from a real LLM."
