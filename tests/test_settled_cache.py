"""zwarm's own sessions are read from their turn files once: a later start (or a second
editor's daemon) takes what that taught from .zwarm/zwarm-ls/settled.json, and reads again
only a session whose turn files changed, or everything when the file is damaged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zwarm_ls import index as index_module
from zwarm_ls.index import Index
from zwarm_ls.store import Store

STORE = Path(__file__).parent / "test_data" / "zwarm_resumed_store" / ".zwarm"
CODEX = "5a1e0c0d-2b7f-4c11-9e3a-7d2c1b0a9f88"
CLAUDE = "6b2f1d1e-3c80-4d22-8f4b-8e3d2c1b0aa9"


def settled(store: Store) -> dict[str, tuple]:
    index = Index(store)
    index.refresh()
    index.settle_foreign()
    return {s.id: (s.step_count, s.latest_step, s.usage, s.cost_usd)
            for s in index.summaries()}


def test_a_second_start_reads_only_what_changed(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(STORE, tmp_path / ".zwarm")
    store = Store(tmp_path)
    first = settled(store)
    assert first[CODEX][2].total_tokens == 41724  # read from the files (see the usage test)
    assert (store.journal.parent / "settled.json").is_file()

    parsed: list[str] = []
    real = index_module.settle_turns

    def counting(store: Store, meta, preview_chars: int):
        parsed.append(meta.id)
        return real(store, meta, preview_chars)

    monkeypatch.setattr(index_module, "settle_turns", counting)
    assert settled(store) == first  # the same facts ...
    assert parsed == []  # ... and no turn file read

    with store.turn_paths(CLAUDE, 2).output.open("a") as out:  # the session changed on disk
        out.write('{"type": "result", "total_cost_usd": 1.5, "usage": {"input_tokens": 7}}\n')
    again = settled(store)
    assert parsed == [CLAUDE]
    assert again[CODEX] == first[CODEX] and again[CLAUDE] != first[CLAUDE]

    parsed.clear()
    (store.journal.parent / "settled.json").write_text('{"version": 1, "sessions": {"' +
                                                        CODEX + '": {"stamps": 7}}}')
    assert settled(store) == again  # a damaged cache is ignored, and rewritten
    assert sorted(parsed) == sorted([CODEX, CLAUDE])
    parsed.clear()
    assert settled(store) == again and parsed == []
