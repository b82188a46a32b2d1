"""The headless CLI: thin over the service, scriptable with --json, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
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
