"""The session service with fake agent CLIs: every verb, the runner, failure modes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from zwarm_ls import runner
from zwarm_ls.errors import ExecutorMissing, InvalidParams, PolicyViolation, SessionStateError
from zwarm_ls.protocol import (
    CleanParams,
    ConverseParams,
    DelegateParams,
    EndParams,
    ListParams,
    SessionRef,
    Status,
    TrajectoryParams,
    WaitParams,
)
from zwarm_ls.service import SessionService
from zwarm_ls.store import SessionMeta, TurnRecord

TIMEOUT = 30


def invocations(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


async def finish(svc: SessionService, session_id: str) -> None:
    result = await svc.wait(WaitParams(session_ids=[session_id], timeout_s=TIMEOUT))
    assert result.finished, f"session {session_id} did not finish"


def codex_turn(*items: dict, thread: str = "{thread_id}") -> list[dict]:
    return [{"emit": {"type": "thread.started", "thread_id": thread}},
            {"emit": {"type": "turn.started"}},
            *items,
            {"emit": {"type": "turn.completed", "usage": {"input_tokens": 10,
                                                          "output_tokens": 2}}}]


def message(text: str) -> dict:
    return {"emit": {"type": "item.completed", "item": {"type": "agent_message", "text": text}}}


@pytest.mark.parametrize("adapter", ["codex", "claude"])
async def test_delegate_runs_to_completion_with_trajectory_usage_and_cost(service, fake_clis,
                                                                         adapter):
    started = await service.delegate(DelegateParams(task="make hello", adapter=adapter))
    assert started.status in (Status.PENDING, Status.RUNNING)
    await finish(service, started.session_id)
    check = await service.check(SessionRef(session_id=started.short_id))
    assert check.status == Status.COMPLETED and check.exit_code == 0
    assert check.response == "done: make hello"
    assert check.usage.total_tokens > 0 and check.cost_usd and check.cost_usd > 0
    traj = await service.trajectory(TrajectoryParams(session_id=started.session_id))
    assert [s.index for s in traj.steps] == list(range(len(traj.steps)))
    assert any(s.kind == "command" for s in traj.steps)
    # the task travels on stdin, never on argv
    call = invocations(fake_clis)[-1]
    assert call["prompt"] == "make hello" and "make hello" not in call["argv"]


async def test_task_text_that_looks_like_a_flag_or_is_huge_is_safe(service, fake_clis):
    task = "--dangerously-skip-permissions; rm -rf / `boom` $(x)\n" + "y" * 200_000  # near the cap
    started = await service.delegate(DelegateParams(task=task, adapter="claude"))
    await finish(service, started.session_id)
    call = invocations(fake_clis)[-1]
    assert call["prompt"] == task
    assert "--dangerously-skip-permissions" not in call["argv"]
    assert (await service.peek(SessionRef(session_id=started.session_id))).status == "completed"


@pytest.mark.parametrize("adapter,flag", [("codex", "resume"), ("claude", "--resume")])
async def test_converse_resumes_natively_and_accumulates(service, fake_clis, adapter, flag):
    started = await service.delegate(DelegateParams(task="first", adapter=adapter))
    await finish(service, started.session_id)
    first = await service.trajectory(TrajectoryParams(session_id=started.session_id))
    reply = await service.converse(ConverseParams(session_id=started.short_id, message="second"))
    assert reply.turn == 2 and reply.resumed_natively
    await finish(service, started.session_id)
    calls = invocations(fake_clis)
    thread = calls[-1]["argv"][calls[-1]["argv"].index(flag) + 1]
    assert thread and calls[-1]["prompt"] == "second"
    both = await service.trajectory(TrajectoryParams(session_id=started.session_id))
    assert both.steps[: len(first.steps)] == first.steps
    assert {s.turn for s in both.steps[len(first.steps):]} == {2}
    assert [s.index for s in both.steps] == list(range(len(both.steps)))
    meta = service.index.meta(started.session_id)
    assert [(m["role"], m["content"]) for m in meta.messages] == [
        ("user", "first"), ("assistant", "done: first"),
        ("user", "second"), ("assistant", "done: second")]
    assert len(meta.turns) == 2 and all(t.ended_at for t in meta.turns)


async def test_converse_without_a_resume_id_replays_the_whole_transcript(service, fake_clis):
    """Old zwarm sessions have no thread id: the replay carries the original task too."""
    meta = SessionMeta(id="0ld5e55-1000-4000-8000-000000000000", task="original task",
                       status="completed", working_dir=str(service.config.root),
                       model="gpt-5.1-codex-mini",
                       messages=[{"role": "user", "content": "original task"},
                                 {"role": "assistant", "content": "did it"}],
                       turns=[TurnRecord(turn=1, ended_at="2026-01-01T00:00:00+00:00")])
    service.store.create(meta)
    await service.poke()
    reply = await service.converse(ConverseParams(session_id="0ld5e55", message="and more"))
    assert not reply.resumed_natively
    await finish(service, meta.id)
    call = invocations(fake_clis)[-1]
    assert "resume" not in call["argv"]
    assert "USER: original task" in call["prompt"] and "ASSISTANT: did it" in call["prompt"]
    assert call["prompt"].index("original task") < call["prompt"].index("and more")


async def test_converse_refuses_a_running_session(service, scenario, tmp_path):
    gate = tmp_path / "gate"
    scenario(codex_turn({"wait_for_file": str(gate)}, message("late")))
    started = await service.delegate(DelegateParams(task="slow"))
    with pytest.raises(SessionStateError) as exc:
        await service.converse(ConverseParams(session_id=started.session_id, message="hey"))
    assert "still" in exc.value.message and exc.value.hint
    gate.touch()
    await finish(service, started.session_id)


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is in process group `pgid`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


async def test_end_kills_the_whole_group_and_a_finished_session_stays_finished(
        service, scenario, tmp_path):
    scenario(codex_turn({"emit": {"type": "item.started", "item": {"type": "command_execution",
                                                                   "command": "sleep 100"}}},
                        {"wait_for_file": str(tmp_path / "never")}))
    started = await service.delegate(DelegateParams(task="long"))
    run = json.loads(service.store.turn_paths(started.session_id, 1).run.read_text())
    assert group_alive(run["pgid"])
    ended = await service.end(EndParams(session_id=started.short_id, reason="changed my mind"))
    assert ended.status == Status.KILLED and ended.was_running
    assert not group_alive(run["pgid"])
    check = await service.check(SessionRef(session_id=started.session_id))
    assert check.status == Status.KILLED and check.error == "ended: changed my mind"
    again = await service.end(EndParams(session_id=started.session_id))
    assert again.status == Status.KILLED and not again.was_running


async def test_ending_a_completed_session_does_not_mark_it_killed(service):
    started = await service.delegate(DelegateParams(task="quick"))
    await finish(service, started.session_id)
    ended = await service.end(EndParams(session_id=started.session_id))
    assert ended.status == Status.COMPLETED and not ended.was_running
    deleted = await service.end(EndParams(session_id=started.session_id, delete=True))
    assert deleted.status == "deleted"
    assert not service.store.session_dir(started.session_id).exists()
    assert started.session_id not in [s.id for s in (await service.list(ListParams())).sessions]


def test_terminate_never_signals_a_process_that_reused_the_pid(tmp_path):
    bystander = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        ticks = runner.process_start_ticks(bystander.pid)
        paths = runner.TurnPaths(*(tmp_path / n for n in ("o", "e", "p", "run.json", "x")))
        paths.run.write_text(json.dumps({"pid": bystander.pid, "pgid": bystander.pid,
                                         "start_ticks": ticks + 1}))
        assert runner.terminate(paths, grace_s=0.2) is False
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


async def test_crash_mid_turn_fails_with_exit_code_and_keeps_earlier_steps(service, scenario):
    scenario(codex_turn(message("before crash"), {"stderr": "panicked at 'oops'"},
                        {"crash": True}))
    started = await service.delegate(DelegateParams(task="crash"))
    await finish(service, started.session_id)
    check = await service.check(SessionRef(session_id=started.session_id))
    assert check.status == Status.FAILED and check.exit_code == -signal.SIGKILL
    assert "panicked at 'oops'" in check.error
    traj = await service.trajectory(TrajectoryParams(session_id=started.session_id))
    assert [s.summary for s in traj.steps if s.kind == "message"] == ["before crash"]


async def test_garbage_truncated_and_huge_lines(service, scenario):
    scenario(codex_turn({"garbage": 64}, {"raw": '{"type": "item.compl\n'},
                        {"big_message": 10 * 1024 * 1024}, message("after")))
    started = await service.delegate(DelegateParams(task="noisy"))
    await finish(service, started.session_id)
    traj = await service.trajectory(TrajectoryParams(session_id=started.session_id, full=True))
    messages = [s for s in traj.steps if s.kind == "message"]
    assert len(messages[0].detail) == 10 * 1024 * 1024
    assert messages[1].summary == "after"
    assert service.index.meta(started.session_id).turns[0].malformed_lines == 2
    assert service.index.summary(started.session_id).status == Status.COMPLETED
    short = await service.trajectory(TrajectoryParams(session_id=started.session_id))
    assert len(short.steps[messages[0].index].detail) < 3000


async def test_silent_exit_without_a_turn_is_a_failure_with_stderr(service, scenario):
    scenario([{"stderr": "error: unexpected argument '--bogus'"}, {"exit": 2}])
    started = await service.delegate(DelegateParams(task="x"))
    await finish(service, started.session_id)
    check = await service.check(SessionRef(session_id=started.session_id))
    assert check.status == Status.FAILED and "--bogus" in check.error and check.exit_code == 2


async def test_bad_requests_get_clear_errors(service, monkeypatch, tmp_path):
    with pytest.raises(InvalidParams) as exc:
        await service.delegate(DelegateParams(task="x", adapter="gemini"))
    assert "gemini" in exc.value.message and "codex" in exc.value.hint
    with pytest.raises(PolicyViolation):
        await service.delegate(DelegateParams(task="x", working_dir=str(tmp_path)))
    with pytest.raises(InvalidParams):
        await service.delegate(DelegateParams(task="x", working_dir="no/such/dir"))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ExecutorMissing) as missing:
        await service.delegate(DelegateParams(task="x", adapter="claude"))
    assert "claude" in missing.value.message and "claude.toml" in missing.value.hint
    assert (await service.list(ListParams())).counts.total == 0  # nothing half-created


async def test_wait_returns_when_the_first_session_finishes(service, scenario, tmp_path):
    gate = tmp_path / "gate"
    scenario(codex_turn({"wait_for_file": str(gate)}))
    slow = await service.delegate(DelegateParams(task="slow"))
    timed_out = await service.wait(WaitParams(session_ids=[slow.session_id], timeout_s=0.3))
    assert timed_out.timed_out and timed_out.still_running == [slow.session_id]
    gate.touch()
    done = await service.wait(WaitParams(timeout_s=TIMEOUT))
    assert [s.id for s in done.finished] == [slow.session_id] and not done.timed_out


async def test_subscribers_see_every_step_once_in_order(service, scenario):
    items = [item for i in range(20) for item in (message(f"m{i}"), {"sleep": 0.01})]
    scenario(codex_turn(*items))
    seen = []
    service.subscribe(lambda u: seen.extend(u.new_steps))
    started = await service.delegate(DelegateParams(task="stream"))
    await finish(service, started.session_id)
    await service.poke()
    traj = await service.trajectory(TrajectoryParams(session_id=started.session_id))
    assert [s.index for s in seen] == list(range(len(traj.steps)))
    assert [s.summary for s in seen if s.kind == "message"] == [f"m{i}" for i in range(20)]


async def counts_recorded(svc: SessionService, session_id: str) -> None:
    for _ in range(int(TIMEOUT / 0.05)):
        if "changes" in (svc.store.read_meta(session_id).model_extra or {}):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"session {session_id}: change counts never recorded")


async def test_needs_attention_until_someone_looks(service):
    started = await service.delegate(DelegateParams(task="look at me"))
    await finish(service, started.session_id)
    listed = await service.list(ListParams(status=Status.COMPLETED))
    assert listed.sessions[0].needs_attention and listed.counts.needs_attention == 1
    await service.check(SessionRef(session_id=started.session_id))
    assert not (await service.list(ListParams())).sessions[0].needs_attention
    # Looking again writes nothing: no update for other windows to echo back. (Once the
    # change-set counts the finished turn gets in the background are written.)
    await counts_recorded(service, started.session_id)
    looked_at = service.store.read_meta(started.session_id).updated_at
    await service.trajectory(TrajectoryParams(session_id=started.session_id))
    await service.check(SessionRef(session_id=started.session_id))
    assert service.store.read_meta(started.session_id).updated_at == looked_at


async def test_clean_removes_only_old_finished_sessions(service):
    started = await service.delegate(DelegateParams(task="old"))
    await finish(service, started.session_id)
    assert (await service.clean(CleanParams(keep_days=1))).removed == []
    dry = await service.clean(CleanParams(keep_days=0, dry_run=True))
    assert dry.removed == [started.session_id] and service.store.exists(started.session_id)
    assert (await service.clean(CleanParams(keep_days=0))).removed == [started.session_id]
    assert not service.store.exists(started.session_id)


def test_a_transcript_replay_starts_with_the_task_zwarm_did_not_record() -> None:
    from zwarm_ls.service import transcript_prompt
    from zwarm_ls.store import SessionMeta

    meta = SessionMeta(id="x", task="Fix the typo in README.md",
                       messages=[{"role": "assistant", "content": "Fixed it."}])
    prompt = transcript_prompt(meta, "now the other one")
    assert prompt.index("USER: Fix the typo in README.md") < prompt.index("ASSISTANT: Fixed it.")
    assert prompt.index("ASSISTANT: Fixed it.") < prompt.index("USER: now the other one")
