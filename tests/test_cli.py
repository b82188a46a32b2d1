"""The headless CLI: thin over the service, scriptable with --json, clear errors."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def run(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project)],
                          capture_output=True, text=True, check=check, timeout=60)


def test_delegate_wait_show_traj_converse_end(project, fake_clis):
    done = json.loads(run(project, "delegate", "write hello", "--wait", "--json").stdout)
    assert done["status"] == "completed" and done["response"] == "done: write hello"
    session = done["sessionId"]
    listed = json.loads(run(project, "sessions", "--json").stdout)
    assert [s["id"] for s in listed["sessions"]] == [session]
    human = run(project, "sessions").stdout
    assert session[:8] in human and "completed" in human
    traj = run(project, "traj", session[:8]).stdout
    assert "$ echo hello > hello.txt (exit 0)" in traj
    again = json.loads(run(project, "converse", session[:8], "more", "--wait", "--json").stdout)
    assert again["turn"] == 2 and again["response"] == "done: more"
    ended = json.loads(run(project, "end", session, "--delete", "--json").stdout)
    assert ended["status"] == "deleted"
    assert json.loads(run(project, "sessions", "--json").stdout)["counts"]["total"] == 0


def test_errors_are_clear_and_machine_readable(project, fake_clis):
    missing = run(project, "show", "nope", check=False)
    assert missing.returncode == 2 and "no session matches 'nope'" in missing.stderr
    as_json = run(project, "show", "../x", "--json", check=False)
    error = json.loads(as_json.stdout)["error"]
    assert as_json.returncode == 2 and error["code"] == -32602 and "not a valid" in error["message"]


def test_init_writes_safe_defaults_once(project):
    out = json.loads(run(project, "init", "--json").stdout)
    assert len(out["written"]) == 3
    codex_toml = (project / ".zwarm" / "codex.toml").read_text()
    assert 'sandbox = "workspace-write"' in codex_toml
    assert "\nfull_danger = true" not in codex_toml
    assert json.loads(run(project, "init", "--json").stdout)["written"] == []


def held(gate: Path) -> list[dict]:
    """A codex turn that runs until `gate` exists."""
    return [{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
            {"emit": {"type": "turn.started"}}, {"wait_for_file": str(gate)}]


def test_model_detection_runs_the_right_cli(project, fake_clis):
    done = json.loads(run(project, "delegate", "hi", "--model", "sonnet", "--wait",
                          "--json").stdout)
    assert done["adapter"] == "claude" and done["model"] == "sonnet"
    started = json.loads(run(project, "delegate", "hi", "--model", "mini", "--json").stdout)
    assert started["adapter"] == "codex" and started["model"] == "gpt-5.1-codex-mini"
    invocations = [json.loads(line) for line in fake_clis.read_text().splitlines()]
    assert [i["flavor"] for i in invocations][:1] == ["claude"]
    assert "sonnet" in invocations[0]["argv"]
    unknown = run(project, "delegate", "hi", "--model", "sonet", check=False)
    assert unknown.returncode == 2 and "did you mean sonnet" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    listed = json.loads(run(project, "models", "--json").stdout)["models"]
    assert {"name": "sonnet", "adapter": "claude"}.items() <= listed[7].items() or \
        any(m["name"] == "sonnet" and m["adapter"] == "claude" for m in listed)
    assert "gpt-5.1-codex-mini*" in run(project, "models").stdout


def test_friendly_errors_and_version(project, fake_clis):
    empty = run(project, "delegate", "  ", check=False)
    assert empty.returncode == 2 and empty.stderr == \
        "error: the task is empty (say what the agent should do)\n"
    empty_msg = run(project, "converse", "nope", "", check=False)
    assert empty_msg.returncode == 2 and "Traceback" not in empty_msg.stderr
    assert "message" in empty_msg.stderr
    path = os.environ["PATH"]
    os.environ["PATH"] = "/nonexistent"
    try:
        missing = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "delegate", "x",
                                  "--root", str(project)], capture_output=True, text=True,
                                 timeout=60)
    finally:
        os.environ["PATH"] = path
    assert missing.returncode == 2 and "the codex CLI ('codex') was not found" in missing.stderr
    assert run(project, "--version").stdout.startswith("zwarm-ls ")
    nothing = run(project, "wait", check=False)
    assert nothing.returncode == 0 and "no running session" in nothing.stdout


def test_ls_show_all_turns_and_logs(project, fake_clis):
    done = json.loads(run(project, "delegate", "write hello", "--wait", "--json").stdout)
    sid = done["sessionId"]
    run(project, "converse", sid[:8], "and more", "--wait")
    listing = run(project, "ls").stdout.splitlines()
    assert listing[1].split() == ["id", "status", "adapter", "turn", "steps", "tokens",
                                  "cost", "task"]
    row = listing[2].split()
    assert row[0] == sid[:8] and row[6] == "1.1k"  # codex totals a resumed thread
    shown = run(project, "show", sid[:8], "--all-turns").stdout
    assert "── turn 1 ──\nuser: write hello\nassistant: done: write hello" in shown
    assert "── turn 2 ──\nuser: and more\nassistant: done: and more" in shown
    as_json = json.loads(run(project, "show", sid[:8], "--all-turns", "--json").stdout)
    assert [m["role"] for m in as_json["messages"]] == ["user", "assistant"] * 2
    raw = run(project, "logs", sid[:8], "--turn", "1", "--raw").stdout
    assert raw == (project / ".zwarm" / "sessions" / sid / "turns" / "turn_1.jsonl").read_text()
    parsed = run(project, "logs", sid[:8]).stdout
    assert "turn 2" in parsed.splitlines()[0]
    assert "item.completed agent_message: " in parsed and "done: and more" in parsed
    bad = run(project, "logs", sid[:8], "--turn", "5", check=False)
    assert bad.returncode == 2 and "has turns 1…2, not 5" in bad.stderr


def test_wait_timeout_and_kill_all(project, fake_clis, scenario, tmp_path):
    finished = json.loads(run(project, "delegate", "first", "--wait", "--json").stdout)
    scenario(held(tmp_path / "never"))  # every later turn is held open until killed
    held_id = json.loads(run(project, "delegate", "held", "--json").stdout)["sessionId"]
    timed_out = run(project, "wait", held_id[:8], "--timeout", "0.2", check=False)
    assert timed_out.returncode == 1
    assert f"timed out after 0.2s; still running: {held_id[:8]}" in timed_out.stderr
    # A process that left its session's group but carries the session id is a stray.
    stray = subprocess.Popen(["sleep", "600"], env={**os.environ,
                             "ZWARM_LS_SESSION_ID": finished["sessionId"]})
    try:
        out = json.loads(run(project, "kill", "--all", "--json").stdout)
        assert out["killed"] == [held_id] and out["strays"] >= 1
        assert stray.wait(timeout=30) == -9
    finally:
        stray.kill()
    status = json.loads(run(project, "show", held_id[:8], "--json").stdout)["status"]
    assert status == "killed"
    nothing = run(project, "kill", check=False)
    assert nothing.returncode == 2 and "--all" in nothing.stderr


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_all_finds_an_agents_background_job_by_its_environment(project, fake_clis,
                                                                    scenario, tmp_path):
    pid_file = tmp_path / "job.pid"
    scenario([{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
              {"detach": ["sleep", "600"], "pid_file": str(pid_file)},
              {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1,
                                                             "output_tokens": 1}}}])
    done = json.loads(run(project, "delegate", "start a job", "--wait", "--json").stdout)
    job = int(pid_file.read_text())
    try:
        # The job left the turn's process group: only the launcher's environment names it.
        environ = Path(f"/proc/{job}/environ").read_bytes().split(b"\0")
        assert f"ZWARM_LS_SESSION_ID={done['sessionId']}".encode() in environ
        assert b"ZWARM_LS_TURN=1" in environ
        assert os.getpgid(job) != os.getpgid(os.getpid())
        out = json.loads(run(project, "kill", "--all", "--json").stdout)
        assert out["killed"] == [] and out["strays"] == 1
        deadline = time.monotonic() + 10
        while _alive(job) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(job)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(job, signal.SIGKILL)


def test_reset_asks_then_keeps_the_config(project, fake_clis):
    run(project, "init", "--yes")
    run(project, "delegate", "write hello", "--wait")
    refused = run(project, "reset", check=False)  # no terminal, no --yes
    assert refused.returncode == 2 and "confirm with --yes" in refused.stderr
    assert json.loads(run(project, "ls", "--json").stdout)["counts"]["total"] == 1
    out = json.loads(run(project, "reset", "--yes", "--json").stdout)
    assert "sessions" in out["removed"]
    assert sorted(p.name for p in (project / ".zwarm").iterdir()) == \
        ["claude.toml", "codex.toml", "config.toml"]
    assert json.loads(run(project, "ls", "--json").stdout)["counts"]["total"] == 0


def test_init_flags_and_configs_show_sources(project):
    run(project, "init", "--yes", "--adapter", "claude", "--codex-model", "codex-max")
    assert 'model = "gpt-5.1-codex-max"' in (project / ".zwarm" / "codex.toml").read_text()
    (project / ".zwarm" / "config.toml").write_text(
        '[executor]\nmodel = "opus"\nadapter = "claude"\n[orchestrator]\nmax_steps = 7\n')
    (project / ".zwarm" / "claude.toml").unlink()
    shown = json.loads(run(project, "configs", "show", "--json").stdout)
    config_toml = str(project / ".zwarm" / "config.toml")
    assert shown["config"]["orchestrator.max_steps"] == 7
    assert shown["sources"]["orchestrator.max_steps"] == config_toml
    assert shown["sources"]["orchestrator.model"] == "default"
    assert shown["config"]["claude.model"] == "opus"
    assert shown["sources"]["claude.model"].endswith("[executor] model (zwarm 3.x)")
    assert shown["sources"]["codex.model"] == str(project / ".zwarm" / "codex.toml")
    text = run(project, "configs", "show").stdout
    assert 'orchestrator.max_steps' in text and f"= 7    # {config_toml}" in text
    # [executor] model would have set codex's too: the user hears that codex.toml wins.
    (project / ".zwarm" / "config.toml").write_text('[executor]\nmodel = "5.2"\n')
    warnings = json.loads(run(project, "configs", "show", "--json").stdout)["warnings"]
    assert f"{config_toml}: [executor] model (zwarm 3.x) is overridden by " \
        f"{project / '.zwarm' / 'codex.toml'}" in warnings
