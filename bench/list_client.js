// `[list]` from the client VS Code's extension is built on: vscode-jsonrpc over stdio,
// replies parsed by JSON.parse, as in the editor. Starts the daemon in PROJECT, waits
// until it has nothing more to push, times CALLS zwarm/listSessions round trips and prints
// {"times": [ms...], "sessions": N} on stdout.
//
//   node bench/list_client.js NODE_MODULES PYTHON PROJECT CALLS
"use strict";

const { spawn } = require("child_process");
const path = require("path");

const [modulesDir, python, project, callsText] = process.argv.slice(2);
// Resolved from the extension's folder, through the package's own exports.
const rpc = require(require.resolve("vscode-jsonrpc/node", { paths: [path.dirname(modulesDir)] }));
const QUIET_MS = 1000;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main() {
  const daemon = spawn(python, ["-m", "zwarm_ls.cli", "serve"], {
    cwd: project,
    stdio: ["pipe", "pipe", "ignore"],
  });
  const connection = rpc.createMessageConnection(
    new rpc.StreamMessageReader(daemon.stdout),
    new rpc.StreamMessageWriter(daemon.stdin),
  );
  let lastPush = Date.now();
  connection.onNotification(() => {
    lastPush = Date.now();
  });
  connection.onRequest(() => null); // progress tokens, code lens refreshes
  connection.listen();

  await connection.sendRequest("initialize", {
    processId: process.pid,
    rootUri: "file://" + project,
    capabilities: {},
  });
  await connection.sendNotification("initialized", {});
  const first = await connection.sendRequest("zwarm/listSessions", {});
  // zwarm's own sessions are read in the background after start (each then has its step
  // count); lists timed before that would measure a daemon busy parsing their files.
  for (;;) {
    const counted = await connection.sendRequest("zwarm/listSessions", { fields: ["stepCount"] });
    if (counted.sessions.every((s) => s.stepCount)) {
      break;
    }
    await sleep(100);
  }
  while (Date.now() - lastPush < QUIET_MS) {
    await sleep(100);
  }
  const times = [];
  for (let i = 0; i < Number(callsText); i++) {
    const start = process.hrtime.bigint();
    const listed = await connection.sendRequest("zwarm/listSessions", {});
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (listed.sessions.length !== first.sessions.length) {
      throw new Error("the list changed while nothing ran");
    }
  }
  await connection.sendRequest("shutdown");
  await connection.sendNotification("exit");
  connection.dispose();
  process.stdout.write(JSON.stringify({ times, sessions: first.sessions.length }) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
