#!/usr/bin/env bash
# Runs inside a fresh network namespace (the test starts it with `unshare -n`): brings up
# loopback, installs the .vsix into a private extensions dir, starts code-server on
# 127.0.0.1, runs the playwright driver against it, and stops code-server.
# Inputs come from the environment (set by tests/vscode/test_e2e.py):
#   CS_BIN VSIX WORKSPACE STATE_DIR PORT DRIVER OUT_DIR RELEASE_FILE RESULTS NODE_PATH
set -uo pipefail
ip link set lo up

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
trap 'kill -TERM -- -$cs_pid 2>/dev/null; sleep 1; kill -KILL -- -$cs_pid 2>/dev/null' EXIT

# Ready when /healthz answers; node is there anyway (code-server runs on it).
for _ in $(seq 300); do
  node -e "require('http').get('http://127.0.0.1:$PORT/healthz', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))" && break
  kill -0 $cs_pid 2>/dev/null || { echo "code-server exited:"; tail -30 "$STATE_DIR/code-server.log"; exit 4; }
  sleep 0.2
done

node "$DRIVER" "http://127.0.0.1:$PORT/?folder=$WORKSPACE" "$OUT_DIR" "$RELEASE_FILE" "$RESULTS"
