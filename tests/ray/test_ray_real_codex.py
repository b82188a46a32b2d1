"""The real Codex CLI through Ray: the daemon delegates with `executor: "ray"`, the job
runs the pinned `codex` on the worker node against the scripted model server (on
loopback, which the worker shares here), and what Codex did comes back as a change set."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ray.conftest import Cluster, executor_toml, git_project
from tests.real_agents.conftest import AGENTS, Project, need

pytestmark = pytest.mark.real_agents


async def test_a_real_codex_turn_runs_on_the_worker_and_comes_back_for_review(
        cluster: Cluster, real_project: Project, start_daemon: Any) -> None:
    agent = AGENTS["codex"]
    need(real_project, "codex")
    root, server = real_project.root, real_project.server
    git_project(root)
    (root / ".zwarm" / "config.toml").write_text(
        executor_toml(cluster, root.parent / "no-fakes"))
    server.load(agent.scenario(
        {"tool_calls": [agent.shell("printf 'made on the worker\\n' > shell.txt")]},
        {"tool_calls": [agent.write_file("notes.txt", "first line\n")]},  # type: ignore[arg-type]
        {"text": "I wrote shell.txt and notes.txt.",
         "usage": {"input_tokens": 1200, "output_tokens": 80}},
    ))
    daemon = await start_daemon()
    started = await daemon.call("delegate", {"task": "Create shell.txt and notes.txt",
                                             "adapter": "codex", "executor": "ray",
                                             "isolation": "worktree"})
    check = await daemon.wait_done(started["sessionId"])
    assert check["status"] == "completed", check
    assert check["response"] == "I wrote shell.txt and notes.txt."
    steps = await daemon.steps(started["sessionId"])
    assert any(s["kind"] == "command" and "made on the worker" in s["summary"] for s in steps)
    [row] = (await daemon.call("listSessions", {}))["sessions"]
    assert row["executor"] == "ray" and "job zwarm-" in row["location"]

    changes = await daemon.call("sessionChanges", {"sessionId": started["sessionId"]})
    assert sorted(f["relPath"] for f in changes["files"]) == ["notes.txt", "shell.txt"]
    assert not (root / "shell.txt").exists()  # nothing reached the project by itself
    applied = await daemon.call("applyChanges", {"sessionId": started["sessionId"]})
    assert applied["conflicts"] == []
    assert (root / "shell.txt").read_text() == "made on the worker\n"
    assert (root / "notes.txt").read_text() == "first line\n"
