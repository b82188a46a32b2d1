#!/usr/bin/env bash
# Runs inside a fresh network namespace (the test starts it with `unshare -n`): brings up
# loopback, installs the .vsix into a private extensions dir, starts code-server on
# 127.0.0.1, runs the playwright driver against it, and stops code-server.
# Inputs come from the environment (set by tests/vscode/test_e2e.py):
#   CS_BIN VSIX WORKSPACE STATE_DIR PORT DRIVER OUT_DIR RESULTS NODE_PATH
#   and, for the orchestrator test, MODEL_SCENARIO MODEL_PORT PYTHON REPO: the scripted
#   model server (tests/fakes/model_server.py) runs in this namespace too, so the
#   daemon's orchestrator can reach it on 127.0.0.1.
set -uo pipefail
ip link set lo up
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM -- -"$p" 2>/dev/null; done; sleep 1; for p in "${pids[@]}"; do kill -KILL -- -"$p" 2>/dev/null; done' EXIT

if [ -n "${MODEL_SCENARIO:-}" ]; then
  (cd "$REPO" && exec setsid "$PYTHON" -m tests.fakes.model_server --port "$MODEL_PORT" \
    --scenario "$MODEL_SCENARIO" --log "$STATE_DIR/model-requests.jsonl") \
    > "$STATE_DIR/model-server.out" 2> "$STATE_DIR/model-server.log" &
  pids+=($!)
  for _ in $(seq 300); do [ -s "$STATE_DIR/model-server.out" ] && break; sleep 0.1; done
  [ -s "$STATE_DIR/model-server.out" ] || { echo "the model server did not start:"; cat "$STATE_DIR/model-server.log"; exit 5; }
fi

common=(--config "$STATE_DIR/config.yaml" --user-data-dir "$STATE_DIR/data" --extensions-dir "$STATE_DIR/exts")
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$STATE_DIR/config.yaml"

"$CS_BIN" "${common[@]}" --install-extension "$VSIX" > "$STATE_DIR/install-extension.log" 2>&1 \
  || { echo "installing the extension failed:"; cat "$STATE_DIR/install-extension.log"; exit 3; }

# In its own process group, so stopping it also stops its extension host and the daemon.
# `--log trace` sets every log channel to Trace, which is what makes vscode-languageclient
# write the JSON-RPC trace (zwarm.trace.server picks its verbosity) into the zwarm log.
setsid "$CS_BIN" "${common[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override --log trace \
  "$WORKSPACE" > "$STATE_DIR/code-server.log" 2>&1 &
cs_pid=$!
pids+=($cs_pid)

# Ready when /healthz answers; node is there anyway (code-server runs on it).
for _ in $(seq 300); do
  node -e "require('http').get('http://127.0.0.1:$PORT/healthz', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))" && break
  kill -0 $cs_pid 2>/dev/null || { echo "code-server exited:"; tail -30 "$STATE_DIR/code-server.log"; exit 4; }
  sleep 0.2
done

node "$DRIVER" "http://127.0.0.1:$PORT/?folder=$WORKSPACE" "$OUT_DIR" "$RESULTS"
