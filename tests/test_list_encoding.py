"""The list's cached wire encoding is the protocol model's: the join of cached rows equals
ListResult encoded by pydantic, whole, paged and filtered."""

from __future__ import annotations

import json
from pathlib import Path

from zwarm_ls.config import load_config
from zwarm_ls.protocol import ListParams, SessionRow
from zwarm_ls.service import SessionService


def zwarm_sessions(project: Path, count: int) -> None:
    for n in range(count):
        folder = project / ".zwarm" / "sessions" / f"2f1c7e9a-0000-4000-8000-{n:012d}"
        (folder / "turns").mkdir(parents=True)
        (folder / "meta.json").write_text(json.dumps({
            "task": f"task {n} " + "é" * n, "status": ["completed", "failed"][n % 2],
            "turn": 1, "created_at": f"2026-01-01T00:00:{n:02d}+00:00",
            "updated_at": "2026-01-01T01:00:00+00:00", "cost_usd": 0.5 * n}))


async def test_the_cached_list_is_the_models_encoding(project: Path) -> None:
    zwarm_sessions(project, 6)
    service = SessionService(load_config(project)[0])
    await service.start()
    try:
        for params in (ListParams(), ListParams(limit=4), ListParams(status="failed")):
            wire = json.loads(await service.list_json(params))
            model = json.loads((await service.list(params)).model_dump_json(by_alias=True,
                                                                            exclude_none=True))
            assert wire == model, params
        rows = json.loads(await service.list_json(ListParams()))["sessions"]
        assert len(rows) == 6
        aliases = {info.alias for info in SessionRow.model_fields.values()}
        assert all(set(row) <= aliases for row in rows)  # rows, no details
        assert rows[0]["task"] == "task 5 ééééé"  # newest first, text intact
    finally:
        await service.stop()
