"""Sessions zwarm 3.9 itself wrote: usage and cost are what the CLIs reported over all
turns (zwarm kept only the last turn's counts and no cost), steps are counted, cached
input is read under Anthropic's name, and a converse replays the original task."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.lsp_helpers import request

STORE = Path(__file__).resolve().parents[1] / "test_data" / "zwarm39_store" / ".zwarm"
CODEX = "3f2a9c1e-7b4d-4e8a-9f10-2b3c4d5e6f70"
CLAUDE = "8e7d6c5b-4a39-4281-b7a6-958473625140"

SECOND_TURN = [
    {"type": "thread.started", "thread_id": "0199bbbb-1111-7222-8333-444455556666"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": {"id": "m", "type": "agent_message", "text": "Done."}},
    {"type": "turn.completed", "usage": {"input_tokens": 9000, "cached_input_tokens": 1000,
                                         "output_tokens": 700}},
]


def two_turn_codex_session(project: Path) -> dict:
    """zwarm's shape for a conversed codex session: turn 2 in its own file, meta.json
    holding the last turn's usage only."""
    folder = project / ".zwarm" / "sessions" / CODEX
    (folder / "turns" / "turn_2.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in SECOND_TURN))
    meta = json.loads((folder / "meta.json").read_text())
    first = meta["token_usage"]
    meta["turn"] = 2
    meta["token_usage"] = {"input_tokens": 9000, "cached_input_tokens": 1000,
                           "output_tokens": 700, "total_tokens": 9700}
    (folder / "meta.json").write_text(json.dumps(meta))
    return first


async def test_zwarm_sessions_count_every_turn_and_the_reported_cost(start_client,
                                                                     project: Path) -> None:
    shutil.copytree(STORE, project / ".zwarm", dirs_exist_ok=True)
    first = two_turn_codex_session(project)
    client, updates = await start_client()

    async def summary(session_id: str) -> dict:  # usage is a detail: rows leave it out
        listed = await request(client, "zwarm/listSessions",
                               {"fields": ["usage", "stepCount", "costUsd"]})
        return next(s for s in listed["sessions"] if s["id"] == session_id)

    await updates.until(lambda items: {CODEX, CLAUDE} <= {u.session.id for u in items})
    codex = await summary(CODEX)
    assert codex["usage"]["inputTokens"] == first["input_tokens"] + 9000
    assert codex["usage"]["outputTokens"] == first["output_tokens"] + 700
    assert codex["stepCount"] > 3
    assert codex["costUsd"] is not None and codex["costUsd"] > 0

    claude = await summary(CLAUDE)
    assert claude["costUsd"] == 0.0421  # what the CLI reported, not null
    assert claude["usage"]["cachedInputTokens"] == 1000
    assert claude["usage"]["inputTokens"] == 3000 and claude["stepCount"] >= 3
