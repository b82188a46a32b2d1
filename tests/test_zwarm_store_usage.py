"""Two-turn sessions written by zwarm itself (tests/test_data/zwarm_resumed_store), read by
the real daemon. zwarm kept only the last turn's usage and no cost; the daemon takes them
from the turn files. A resumed Codex thread reports a running total per thread, so its
second turn is counted by what it added (41,724 tokens in all, not 22,611 and not 60,837);
Claude reports per run, with its own cost. A converse replays the original task."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.lsp.conftest import start_client  # noqa: F401 - the daemon fixture
from tests.lsp_helpers import request

STORE = Path(__file__).parent / "test_data" / "zwarm_resumed_store" / ".zwarm"
CODEX = "5a1e0c0d-2b7f-4c11-9e3a-7d2c1b0a9f88"
CLAUDE = "6b2f1d1e-3c80-4d22-8f4b-8e3d2c1b0aa9"


async def test_two_turn_zwarm_sessions_count_each_turn_once(start_client,  # noqa: F811
                                                             project: Path) -> None:
    shutil.copytree(STORE, project / ".zwarm", dirs_exist_ok=True)
    client, updates = await start_client()
    # Read in the background after start; each session is pushed once its files are read.
    await updates.until(lambda items: {CODEX, CLAUDE} <= {u.session.id for u in items})
    listed = await request(client, "zwarm/listSessions",
                           {"fields": ["usage", "costUsd", "stepCount"]})
    by_id = {s["id"]: s for s in listed["sessions"]}

    codex = by_id[CODEX]
    assert codex["usage"] == {"inputTokens": 39500, "cachedInputTokens": 30000,
                              "cacheCreationInputTokens": 0, "outputTokens": 2224,
                              "reasoningTokens": 0, "totalTokens": 41724}
    assert codex["costUsd"] == 0.007573  # estimated: the Codex CLI reports no cost
    assert codex["stepCount"] == 8  # 5 + 3 steps, usage steps included

    claude = by_id[CLAUDE]
    assert claude["usage"] == {"inputTokens": 4500, "cachedInputTokens": 3500,
                               "cacheCreationInputTokens": 500, "outputTokens": 320,
                               "reasoningTokens": 0, "totalTokens": 5320}
    assert claude["costUsd"] == 0.0594  # what the CLI reported for its two runs
    assert claude["stepCount"] == 8

    trajectory = await request(client, "zwarm/getTrajectory", {"sessionId": CODEX})
    assert [s["turn"] for s in trajectory["steps"]] == [1] * 5 + [2] * 3


async def test_converse_on_a_zwarm_session_replays_the_original_task(
        start_client, project: Path, fake_clis: Path) -> None:  # noqa: F811
    shutil.copytree(STORE, project / ".zwarm", dirs_exist_ok=True)
    meta_path = project / ".zwarm" / "sessions" / CODEX / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["working_dir"] = str(project)  # where the code is on this machine
    meta_path.write_text(json.dumps(meta))
    client, updates = await start_client()
    result = await request(client, "zwarm/converse",
                           {"sessionId": CODEX, "message": "Also handle None"})
    assert result["turn"] == 3 and result["resumedNatively"] is False
    await updates.until(lambda items: any(u.session.id == CODEX and u.session.turn == 3 and
                                          not u.session.status.is_active for u in items))
    prompt = json.loads(fake_clis.read_text().splitlines()[-1])["prompt"]
    lines = prompt.splitlines()
    assert lines[0] == "Continue the following conversation."
    assert lines.index("USER: Make the parser accept empty input") < \
        lines.index("ASSISTANT: Added a test; 3 passed.") < lines.index("USER: Also handle None")
    check = await request(client, "zwarm/checkSession", {"sessionId": CODEX})
    assert check["status"] == "completed" and check["task"] == meta["task"]
    # zwarm's two turns still count beside the new one (the fake agent's default turn:
    # 1000 input, 400 cached, 50 output, in a thread of its own).
    assert check["usage"]["totalTokens"] == 41724 + 1050
    assert check["usage"]["cachedInputTokens"] == 30000 + 400
