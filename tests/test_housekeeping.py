"""`kill --all` in process, against the real runner and the fake agent: what it spares."""

from __future__ import annotations

from pathlib import Path

from zwarm_ls import admin_cli, runner
from zwarm_ls.protocol import DelegateParams, EndParams, EndResult, WaitParams
from zwarm_ls.service import SessionService
from zwarm_ls.store import read_json


def held(gate: Path) -> list[dict]:
    return [{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
            {"wait_for_file": str(gate)}]


async def test_kill_all_spares_a_session_started_while_it_ran(service: SessionService,
                                                               scenario, tmp_path):
    scenario(held(tmp_path / "gate"))
    first = await service.delegate(DelegateParams(task="running before"))
    late: list[str] = []
    end = service.end

    async def end_while_another_starts(params: EndParams) -> EndResult:
        # Another daemon of the project starts a session while kill --all is ending these.
        late.append((await service.delegate(DelegateParams(task="started meanwhile"))).session_id)
        return await end(params)

    service.end = end_while_another_starts  # type: ignore[method-assign]
    ended, strays = await admin_cli.kill(service, None)
    service.end = end  # type: ignore[method-assign]
    assert [e.session_id for e in ended] == [first.session_id] and strays == 0
    assert service.index.summary(first.session_id).status == "killed"
    run = service.store.turn_paths(late[0], 1).run
    assert runner.runner_alive(read_json(run) or {})  # its runner was not taken for a stray
    assert service.index.summary(late[0]).status.is_active
    (tmp_path / "gate").touch()
    await service.wait(WaitParams(session_ids=[late[0]], timeout_s=30))
