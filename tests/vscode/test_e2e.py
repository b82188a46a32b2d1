"""End to end in a real VS Code: code-server (the real workbench and extension host) with
the built .vsix installed by `code-server --install-extension`, driven by Chromium
through playwright-core (drive.js).

The daemon is the venv's real `zwarm-ls`; the agent CLIs are the fakes from tests/fakes,
first on PATH in code-server's environment so the daemon's runners start them. The fake
Codex runs a recognizable command, then holds its turn open until the driver writes a
release file (so the test sees the session running), then edits calc.py (so there are
changed lines to decorate) and completes. code-server and Chromium run inside their own
network namespace (run_code_server.sh under `unshare -n`): only loopback exists there.
Screenshots of every step, the driver's readings and the editor's logs are kept in
artifacts/vscode/.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp

from tests import artifacts
from tests.conftest import write_fake_clis
from tests.requirements import missing as requirement_missing
from zwarm_ls.editor import selection_task, text_in_range

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXT = REPO / "editor-clients" / "vscode"
VSIX = REPO / ".ci-cache" / "zwarm-ls.vsix"  # a build product, not a source
CODE_SERVER = REPO / ".ci-cache" / "code-server" / "node_modules" / ".bin" / "code-server"
ARTIFACTS = artifacts.ROOT / "vscode"
DAEMON = Path(sys.executable).parent / "zwarm-ls"
PORT = 18765  # a fresh network namespace has every port free
MODEL_PORT = 18766  # the scripted model server, in the same namespace
RUN_TIMEOUT_S = 600  # a hard stop for a hung browser; the driver's own waits are shorter
STEPS = ["01-selection", "02-lightbulb", "03-delegated", "04-sessions-running",
         "05-lens-running", "06-trajectory-running", "07-completed", "08-hover", "09-check",
         "10-trajectory"]
MARKER_COMMAND = "/bin/bash -lc 'echo zwarm-e2e-marker >> notes.txt'"

CALC_PY = """\
def add(a, b):
    # TODO: check that a and b are numbers
    return a + b


def sub(a, b):
    return a - b
"""
# What the fake agent writes: two lines added after line 2 (0-based lines 2-3 change).
CALC_PY_EDITED = CALC_PY.replace(
    "    return a + b\n",
    "    if not all(isinstance(x, (int, float)) for x in (a, b)):\n"
    "        raise TypeError(\"add() needs numbers\")\n"
    "    return a + b\n", 1)

pytestmark = pytest.mark.vscode


def missing(reason: str) -> None:
    """Fail in CI (where .ci/install-vscode.sh must have provided it), skip locally."""
    requirement_missing(f"{reason} (run .ci/install-vscode.sh)")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        missing("chromium is not installed")
    return str(found)


def require_tools() -> str:
    browser = chromium()
    if not CODE_SERVER.exists():
        missing(f"code-server is not installed at {CODE_SERVER}")
    if not (EXT / "node_modules" / "playwright-core").is_dir():
        missing("playwright-core is not installed in editor-clients/vscode/node_modules")
    if not DAEMON.exists():
        missing(f"the daemon is not installed at {DAEMON}")
    if not shutil.which("git"):
        missing("git is not installed (the daemon finds changed lines with it)")
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        missing("cannot create a network namespace (unshare -n) to run code-server in")
    return browser


def ensure_vsix() -> None:
    """Rebuild the .vsix when the sources are newer (the install script builds it too)."""
    sources = [EXT / "package.json", EXT / "package-lock.json", *(EXT / "src").rglob("*.ts"),
               *(EXT / "media").iterdir()]
    newest = max(p.stat().st_mtime for p in sources)
    if VSIX.exists() and VSIX.stat().st_mtime >= newest:
        return
    build = "ip link set lo up; npm run --silent package"
    proc = subprocess.run(["unshare", "-n", "sh", "-c", build],
                          cwd=EXT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and VSIX.exists(), f"packaging failed:\n{proc.stdout}{proc.stderr}"


def codex_turn(release: Path) -> list[dict[str, Any]]:
    """A Codex turn that runs a recognizable command, waits for `release`, edits calc.py."""
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "item.completed",
                  "item": {"id": "i0", "type": "reasoning", "text": "planning the check"}}},
        {"emit": {"type": "item.completed", "item": {
            "id": "i1", "type": "command_execution", "command": MARKER_COMMAND,
            "aggregated_output": "", "exit_code": 0, "status": "completed"}}},
        {"wait_for_file": str(release)},
        {"write": "calc.py", "text": CALC_PY_EDITED},
        {"emit": {"type": "item.completed", "item": {
            "id": "i2", "type": "file_change", "status": "completed",
            "changes": [{"path": "{cwd}/calc.py", "kind": "update"}]}}},
        {"emit": {"type": "item.completed", "item": {
            "id": "i3", "type": "agent_message", "text": "added the number check"}}},
        {"emit": {"type": "turn.completed",
                  "usage": {"input_tokens": 1000, "cached_input_tokens": 0, "output_tokens": 50}}},
    ]


def user_settings() -> dict[str, Any]:
    return {
        "zwarm.serverPath": str(DAEMON),
        "zwarm.defaultAdapter": "codex",
        "zwarm.trace.server": "messages",
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "extensions.ignoreRecommendations": True,
        "workbench.enableExperiments": False,
        "workbench.tips.enabled": False,
        "chat.disableAIFeatures": True,
        "git.enabled": False,
        "editor.codeLens": True,
        "editor.lightbulb.enabled": "on",
        "editor.hover.delay": 300,
        # The agent's edit must reach the open editor as a reload from disk.
        "files.autoSave": "off",
    }


def make_project(root: Path) -> Path:
    """A git work tree with calc.py committed, so the daemon's changed lines are the hunks."""
    project = root / "project"
    (project / ".zwarm").mkdir(parents=True)
    (project / "calc.py").write_text(CALC_PY)
    # This flow follows an agent editing the open file live: in place, not in a worktree.
    (project / ".zwarm" / "config.toml").write_text('[sessions]\nisolation = "inplace"\n')
    git = ["git", "-C", str(project), "-c", "user.name=zwarm test",
           "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "calc.py"], ["commit", "-q", "-m", "calc"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    return project


def keep_logs(state: Path, artifacts: Path) -> None:
    """Copy the editor's logs (with the JSON-RPC trace) next to the screenshots."""
    target = artifacts / "logs"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for log in [state / "code-server.log", state / "install-extension.log",
                state / "model-server.log", *(state / "data" / "logs").rglob("*.log")]:
        if log.is_file():
            name = str(log.relative_to(state)).replace(os.sep, "__")
            shutil.copyfile(log, target / name)


def diagnostics(state: Path, artifacts: Path,
                proc: subprocess.CompletedProcess[str] | None) -> str:
    """What to read when the run failed: driver output and the extension's log."""
    parts = []
    if proc is not None:
        parts.append(f"--- runner rc {proc.returncode}\n{proc.stdout[-4000:]}\n"
                     f"{proc.stderr[-4000:]}")
    for log in sorted((state / "data" / "logs").rglob("zwarm.log")):
        parts.append(f"--- {log.relative_to(state)}\n{log.read_text(errors='replace')[-4000:]}")
    parts.append(f"(all logs are in {artifacts / 'logs'})")
    return "\n".join(parts)


def run_workbench(tmp_path: Path, project: Path, driver: str, artifacts: Path,
                  env: dict[str, str], finally_: Callable[[], object] | None = None,
                  ) -> tuple[dict[str, Any], Path]:
    """Install the .vsix into a fresh code-server, open `project`, run `driver` against
    it (all inside `unshare -n`), and return what the driver read and the state dir."""
    browser = require_tools()
    ensure_vsix()
    artifacts.mkdir(parents=True, exist_ok=True)
    for old in artifacts.glob("*.png"):
        old.unlink()
    bin_dir = tmp_path / "bin"
    write_fake_clis(bin_dir)
    state = tmp_path / "code-server"
    (state / "data" / "User").mkdir(parents=True)
    (state / "data" / "User" / "settings.json").write_text(json.dumps(user_settings(), indent=2))
    home = tmp_path / "home"
    home.mkdir()
    # VS Code's server takes the extension host's environment from a login shell, which
    # re-reads /etc/profile and resets PATH; the login profile puts the fakes back first,
    # as a user's own profile would put the real CLIs there.
    (home / ".profile").write_text(f'export PATH="{bin_dir}:{DAEMON.parent}:$PATH"\n')
    results = tmp_path / "results.json"
    full_env = {
        **os.environ,
        "PATH": os.pathsep.join([str(bin_dir), str(DAEMON.parent), os.environ.get("PATH", "")]),
        # Chromium and code-server write under HOME; keep that in the test's tmp dir.
        "HOME": str(home),
        "CS_BIN": str(CODE_SERVER),
        "VSIX": str(VSIX),
        "WORKSPACE": str(project),
        "STATE_DIR": str(state),
        "PORT": str(PORT),
        "DRIVER": str(HERE / driver),
        "OUT_DIR": str(artifacts),
        "RESULTS": str(results),
        "NODE_PATH": str(EXT / "node_modules"),
        "CHROMIUM": browser,
        **env,
    }
    proc = None
    try:
        proc = subprocess.run(["unshare", "-n", "bash", str(HERE / "run_code_server.sh")],
                              env=full_env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"code-server run exceeded {RUN_TIMEOUT_S} s\n"
                    f"{diagnostics(state, artifacts, None)}")
    finally:
        if finally_ is not None:
            finally_()
        keep_logs(state, artifacts)
    (artifacts / "drive.log").write_text(proc.stdout + proc.stderr)
    seen = json.loads(results.read_text()) if results.exists() else {}
    (artifacts / "results.json").write_text(json.dumps(seen, indent=2))
    assert proc.returncode == 0 and seen.get("ok"), (
        f"driver failed: {seen.get('error')}\nnotifications: {seen.get('notifications')}\n"
        f"{diagnostics(state, artifacts, proc)}")
    assert_ran_from_vsix(state)
    return seen, state


def assert_ran_from_vsix(state: Path) -> None:
    """The extension host ran the copy that --install-extension unpacked from the .vsix."""
    installed = json.loads((state / "exts" / "extensions.json").read_text())
    ours = [e for e in installed if e["identifier"]["id"] == "zwarm.zwarm-ls"]
    assert len(ours) == 1, installed
    location = Path(ours[0]["location"]["path"])
    assert location.parent == state / "exts", location
    with zipfile.ZipFile(VSIX) as vsix:
        packaged = vsix.read("extension/dist/extension.js")
    running = (location / "dist" / "extension.js").read_bytes()
    assert hashlib.sha256(running).digest() == hashlib.sha256(packaged).digest()
    exthost = "\n".join(p.read_text(errors="replace")
                        for p in (state / "data" / "logs").rglob("remoteexthost.log"))
    assert "_doActivateExtension zwarm.zwarm-ls" in exthost
    assert "extensionDevelopmentPath" not in (state / "code-server.log").read_text()


def test_delegate_selection_follow_and_open_trajectory(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    release = tmp_path / "release"
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"turns": [codex_turn(release)]}))
    agent_log = tmp_path / "agent-invocations.jsonl"
    seen, _ = run_workbench(
        tmp_path, project, "drive.js", ARTIFACTS,
        {"FAKE_AGENT_SCENARIO": str(scenario), "FAKE_AGENT_LOG": str(agent_log),
         "RELEASE_FILE": str(release)},
        # never leave a fake agent waiting, whatever happened
        finally_=release.touch)

    short = seen["shortId"]
    texts = seen["texts"]

    # The server's code actions for the selection are in the lightbulb menu.
    assert "(74 selected)" in texts["selection"], texts["selection"]
    menu = "\n".join(texts["lightbulb"])
    assert "Delegate this to Codex" in menu and "Delegate this to Claude" in menu, menu

    # "Delegate Selection" offered the agents (preferred first) and sent the selection as a
    # range: the task the daemon recorded is exactly what it writes for that range, the
    # text Neovim gets for the same selection (tests/nvim asserts the same).
    assert texts["delegatePicks"][0].startswith("Delegate this to Codex"), texts["delegatePicks"]
    assert "delegated to codex" in texts["delegated"]
    selected = lsp.Range(start=lsp.Position(line=0, character=0),
                         end=lsp.Position(line=2, character=16))
    expected = selection_task("calc.py", selected,
                              text_in_range(CALC_PY.splitlines(keepends=True), selected),
                              "python")
    [meta_file] = (project / ".zwarm" / "sessions").glob(f"{short}*/meta.json")
    assert json.loads(meta_file.read_text())["task"] == expected
    invocations = [json.loads(line) for line in agent_log.read_text().splitlines()]
    assert [i["flavor"] for i in invocations] == ["codex"]
    assert expected in invocations[0]["prompt"]
    assert "calc.py, lines 1-3" in invocations[0]["prompt"]
    assert "TODO: check that a and b are numbers" in invocations[0]["prompt"]
    assert "def sub" not in invocations[0]["prompt"]

    # The status bar item counted it and opened the Sessions view (own container), which
    # showed it under Running; $/progress showed in the status bar; the context menu has
    # the session actions.
    assert "running" in texts["statusBarRunningLabel"]
    assert f"zwarm codex {short}" in texts["progressRunning"]
    assert "ZWARM: SESSIONS" in texts["sidebarTitle"].upper()
    assert "running" in texts["sessionRunning"] and f"codex {short}" in texts["sessionRunning"]
    assert any(t.startswith("Running") for t in texts["groupsRunning"]), texts["groupsRunning"]
    for action in ("Peek", "Check", "Show Trajectory", "End Session"):
        assert action in texts["contextMenuRunning"], texts["contextMenuRunning"]
    assert "Converse…" not in texts["contextMenuRunning"]  # the daemon refuses mid-turn

    # The daemon's code lens at the anchor changed its text as the session finished.
    assert texts["lensRunning"].startswith("zwarm:")
    assert f"codex {short} running" in texts["lensRunning"]
    assert f"codex {short} completed" in texts["lensCompleted"]
    assert texts["lensRunning"] != texts["lensCompleted"]

    # The Sessions view moved it to Completed, live.
    assert "completed" in texts["sessionCompleted"]
    assert any(t.startswith("Completed") for t in texts["groupsCompleted"])
    assert not any(t.startswith("Running") for t in texts["groupsCompleted"])
    assert not any(f"zwarm codex {short}" in t for t in texts["progressCompleted"])

    # The agent's edit reached the editor, the lines it wrote got gutter marks, and the
    # hover on such a line names the session and the turn (from blame on the change set).
    assert "raise TypeError" in texts["calcAfter"]
    assert texts["changedLineGlyphs"], "no gutter decorations on the changed lines"
    # Once: the daemon's textDocument/hover, not repeated by the decorations.
    assert texts["hover"].count(f"written by codex session {short}") == 1, texts["hover"]
    assert "turn 1" in texts["hover"] and "calc.py" in texts["hover"], texts["hover"]

    # The Sessions row's tooltip: what the row says, and the agent's last reply.
    assert f"codex {short}" in texts["sessionTooltip"], texts["sessionTooltip"]
    assert "added the number check" in texts["sessionTooltip"]

    # Check from the context menu of the finished session.
    assert "Converse…" in texts["contextMenuCompleted"]
    assert "End Session" not in texts["contextMenuCompleted"]
    assert f"zwarm {short} completed · turn 1" in texts["check"], texts["check"]
    assert "added the number check" in texts["check"]

    # The trajectory document followed the session live and shows the agent's command;
    # "Show Trajectory" brought the open one forward instead of opening a second copy.
    assert f"session {short}: running" in texts["trajectoryRunning"]
    assert "$ echo zwarm-e2e-marker >> notes.txt" in texts["trajectoryRunningCommand"]
    assert f"session {short}: completed" in texts["trajectoryLive"]
    assert "$ echo zwarm-e2e-marker >> notes.txt" in texts["trajectory"]
    tab = f"trajectory-{short}.md"
    assert tab in texts["activeTab"], texts["activeTab"]
    assert sum(tab in t for t in texts["tabs"]) == 1, texts["tabs"]

    for step in STEPS:
        shot = ARTIFACTS / f"{step}.png"
        assert shot.is_file() and shot.stat().st_size > 10_000, f"missing screenshot {shot}"


STALE_RUN = "20200101-000000-abcdef"


def test_pilot_asks_in_an_input_box_and_orchestrate_streams(tmp_path: Path) -> None:
    """The pilot's question (zwarm/chat, which the extension declares) is answered in an
    input box and the answer reaches the model; an orchestrator run streams its steps into
    the "zwarm orchestrator" output channel and ends with a notification."""
    project = make_project(tmp_path)
    question = "Which database should the cache use?"
    scenario = tmp_path / "model-scenario.json"
    scenario.write_text(json.dumps({"responses": [
        # the pilot's turn: a question for the user, then the reply
        {"tool_calls": [{"name": "chat", "call_id": "q1", "arguments": {"message": question}}]},
        {"text": "Going with postgres."},
        # the orchestrator's run: look at the sessions, then stop
        {"tool_calls": [{"name": "list_sessions", "arguments": {}}]},
        {"tool_calls": [{"name": "exit", "arguments": {"message": "nothing to do"}}]},
        # the interrupted run, resumed from the runs list
        {"tool_calls": [{"name": "exit", "arguments": {"message": "resumed in VS Code"}}]},
    ]}))
    (project / ".zwarm" / "config.toml").write_text(
        '[orchestrator]\nprovider = "openai"\nmodel = "scripted-model"\n'
        f'base_url = "http://127.0.0.1:{MODEL_PORT}/v1"\napi_key_env = "ZWARM_TEST_KEY"\n')
    # A run whose process died mid-run, for the runs list.
    stale = project / ".zwarm" / "orchestrator" / STALE_RUN / "run.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"run_id": STALE_RUN, "task": "an older task",
                                 "status": "running", "max_steps": 50, "step_count": 3,
                                 "pid": 2 ** 22 + 1, "start_ticks": 1,
                                 "created_at": "2020-01-01T00:00:00+00:00",
                                 "updated_at": "2020-01-01T00:00:00+00:00"}))
    artifacts = ARTIFACTS / "orchestrator"
    seen, state = run_workbench(
        tmp_path, project, "drive_orchestrator.js", artifacts,
        {"MODEL_SCENARIO": str(scenario), "MODEL_PORT": str(MODEL_PORT),
         "PYTHON": sys.executable, "REPO": str(REPO), "ZWARM_TEST_KEY": "test-key",
         "STALE_RUN": STALE_RUN})
    texts = seen["texts"]

    # The question came as zwarm/chat (an input box, free text), not as buttons.
    assert question in texts["question"] and "zwarm asks" in texts["question"], texts["question"]
    assert texts["pilotReply"].startswith("zwarm pilot (T1): Going with postgres."), texts
    assert "[pilot default]" in texts["pilotOutput"]
    requests = [json.loads(line) for line in
                (state / "model-requests.jsonl").read_text().splitlines()]
    bodies = [r["body"] for r in requests if r.get("api") == "responses"]
    outputs = [json.loads(item["output"]) for item in bodies[1]["input"]
               if isinstance(item, dict) and item.get("type") == "function_call_output"]
    assert {"ok": True, "delivered": True, "answer": "postgres"} in outputs, outputs

    run_id = seen["runId"]
    assert texts["orchestrateFinished"] == f"zwarm orchestrator {run_id} finished"
    assert f"[orchestrator {run_id}]" in texts["orchestratorOutput"]
    assert "list_sessions" in texts["orchestratorOutput"]
    # The runs list: ours first (newest), finished; the stale one interrupted, resumable.
    rows = texts["runRows"]
    assert len(rows) == 2, rows
    assert "check on the sessions" in rows[0] and "finished · 2/50 steps" in rows[0], rows
    assert "an older task" in rows[1] and "interrupted" in rows[1], rows
    assert f"orchestrate --resume {STALE_RUN}" in rows[1], rows
    assert f"== orchestrator run {run_id} (finished, " in texts["runShown"], texts["runShown"]
    # Resumed from the list: the daemon carried it on with the next scripted reply.
    assert texts["resumeFinished"].startswith(f"zwarm orchestrator {STALE_RUN} finished")
    resumed = json.loads((project / ".zwarm" / "orchestrator" / STALE_RUN / "run.json")
                         .read_text())
    assert (resumed["status"], resumed["message"], resumed["resumed"]) == \
        ("exited", "resumed in VS Code", 1)
    for step in ("01-pilot-asks", "02-pilot-replied", "03-orchestrated", "04-runs",
                 "05-resume-offered"):
        shot = artifacts / f"{step}.png"
        assert shot.is_file() and shot.stat().st_size > 10_000, f"missing screenshot {shot}"
