"""A meta.json rewritten by a tool that keeps no journal, with no file event to say so
(the watcher was still starting): the next rescan finds it by its stamp."""

from __future__ import annotations

import json
import time
from pathlib import Path

from zwarm_ls.index import Index
from zwarm_ls.store import Store


def zwarm_session(store: Store, status: str) -> Path:
    folder = store.sessions_dir / "2f1c7e9a-0000-4000-8000-000000000001"
    (folder / "turns").mkdir(parents=True)
    meta = folder / "meta.json"
    meta.write_text(json.dumps({"task": "t", "status": status, "turn": 1,
                                "created_at": "2026-01-01T00:00:00+00:00",
                                "updated_at": "2026-01-01T01:00:00+00:00"}))
    return meta


def test_a_rescan_rereads_a_meta_json_that_moved(tmp_path: Path) -> None:
    store = Store(tmp_path)
    meta = zwarm_session(store, "failed")
    index = Index(store)
    index.refresh()
    [summary] = index.summaries()
    assert summary.status == "failed"

    # The same size, written in place, a new updated_at: only the stamp tells.
    data = json.loads(meta.read_text())
    time.sleep(0.02)  # file times advance per kernel tick (at most 10 ms)
    meta.write_text(json.dumps(data | {"status": "killed",
                                       "updated_at": "2026-01-01T02:00:00+00:00"}))
    assert index.refresh() == []  # no journal entry, no event, no rescan due: unseen
    index.rescan_after(0)
    [change] = index.refresh()
    assert change.summary is not None and change.summary.status == "killed"
    assert index.refresh() == []  # read once: the stamp is current again
