"""Watchers in scripted runs (each nudges once; budget stops the run) and as units."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.orchestrator.conftest import (
    PROVIDERS,
    bodies,
    call,
    calls,
    configure,
    user_texts,
)
from zwarm_ls.config import WatchersConfig, WatcherSpec
from zwarm_ls.orchestrator import Orchestrator
from zwarm_ls.orchestrator.history import ToolCall
from zwarm_ls.orchestrator.orchestrator import read_run
from zwarm_ls.orchestrator.watchers import RunState, WatcherManager, writes_code
from zwarm_ls.service import SessionService


def watchers_toml(name: str, config: str = "") -> str:
    """Only the watcher under test, so others cannot interfere."""
    table = f"\n[watchers.watchers.config]\n{config}" if config else ""
    return f'\n[watchers]\nenabled = true\n[[watchers.watchers]]\nname = "{name}"\n{table}\n'


def nudges(service: SessionService, run_id: str) -> list[str]:
    record = read_run(service.config, run_id)
    return [i.text for i in record.items if i.tag == "nudge"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_progress_nudges_once_for_repeated_calls(provider: str, service: SessionService,
                                                       project: Path, model_server) -> None:
    server = model_server([calls(call("list_sessions"))] * 5 + [calls(call("exit", message="ok"))])
    configure(service, project, provider, server, watchers_toml("progress"))
    result = await Orchestrator(service, "t").run()
    assert result.status == "exited"
    found = nudges(service, result.run_id)
    assert len(found) == 1 and found[0].startswith("[watcher: progress]")
    # The nudge reaches the model right after the third identical call, and only once.
    sent = bodies(server, provider)
    seen = [sum(t.startswith("[watcher: progress]") for t in user_texts(b)) for b in sent]
    assert seen == [0, 0, 0, 1, 1, 1]


async def test_progress_nudges_on_stall(service: SessionService, project: Path,
                                        model_server) -> None:
    script = [calls(call("list_sessions", status=s)) for s in
              ("running", "completed", "failed", "killed", "pending")]
    server = model_server([*script, calls(call("exit", message="ok"))])
    configure(service, project, "openai", server,
              watchers_toml("progress", "stall_steps = 3"))
    result = await Orchestrator(service, "t").run()
    found = nudges(service, result.run_id)
    assert len(found) == 1 and "3 steps without delegating" in found[0]


async def test_delegation_nudges_for_code_written_through_bash(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server([
        calls(call("bash", command="cat > app.py <<'EOF'\nprint(1)\nEOF")),
        calls(call("bash", command="python3 -c 'import sys; print(sys.version_info[0])'")),
        calls(call("bash", command="grep -rn 'class Foo' . || true")),
        calls(call("exit", message="ok")),
    ])
    configure(service, project, "openai", server, watchers_toml("delegation"))
    result = await Orchestrator(service, "t").run()
    found = nudges(service, result.run_id)
    assert len(found) == 1 and found[0].startswith("[watcher: delegation]")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_delegation_reminder_nudges_once_per_streak(
        provider: str, service: SessionService, project: Path, model_server) -> None:
    bash = [calls(call("bash", command=f"echo {n}")) for n in range(5)]
    server = model_server([*bash, calls(call("exit", message="ok"))])
    configure(service, project, provider, server,
              watchers_toml("delegation_reminder", "threshold = 3"))
    result = await Orchestrator(service, "t").run()
    found = nudges(service, result.run_id)
    assert len(found) == 1 and found[0].startswith("[watcher: delegation_reminder]")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_budget_stops_on_tokens_after_one_warning(
        provider: str, service: SessionService, project: Path, model_server) -> None:
    # Every scripted reply costs 120 tokens: warn at 80% of 250, stop past 250.
    script = [calls(call("list_sessions", status=s)) for s in ("running", "completed",
                                                               "failed", "killed")]
    server = model_server(script)
    configure(service, project, provider, server, watchers_toml("budget", "max_tokens = 250"))
    result = await Orchestrator(service, "t").run()
    assert result.status == "budget_exhausted" and result.stopped_by == "watcher:budget"
    assert result.step_count == 3 and len(bodies(server, provider)) == 3
    assert "limit is 250 tokens" in (result.message or "")
    assert len(nudges(service, result.run_id)) == 1


async def test_budget_stops_when_too_many_sessions(service: SessionService, project: Path,
                                                   model_server, fixed_ids: list[str]) -> None:
    server = model_server([calls(call("delegate", task="a"), call("delegate", task="b")),
                           calls(call("list_sessions"))])
    configure(service, project, "openai", server, watchers_toml("budget", "max_sessions = 1"))
    result = await Orchestrator(service, "t").run()
    assert result.status == "budget_exhausted" and result.step_count == 1
    assert "2 sessions started; the limit is 1" in (result.message or "")


async def test_step_budget_warns_once_then_ends(service: SessionService, project: Path,
                                                model_server) -> None:
    script = [calls(call("list_sessions", status=s)) for s in ("running", "completed",
                                                               "failed", "killed", "pending")]
    server = model_server(script)
    configure(service, project, "openai", server, watchers_toml("budget"))
    result = await Orchestrator(service, "t", max_steps=5).run()
    assert result.status == "budget_exhausted" and result.stopped_by == "max_steps"
    found = nudges(service, result.run_id)
    assert found == ["[watcher: budget] 1 of 5 steps left. Finish what is running, verify, "
                     "and exit with a report."]


# ----- units ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    "cat > src/app.py <<'EOF'\ndef f(): pass\nEOF",
    "echo 'x = 1' >> config.py",
    "printf 'fn main() {}' > main.rs",
    "tee lib/util.ts < /tmp/x",
    "sed -i 's/a/b/' app.py",
    "perl -pi -e 's/a/b/' app.js",
    "python3 -c \"open('gen.py', 'w').write('x')\"",
    "git apply fix.patch",
])
def test_writes_code(command: str) -> None:
    assert writes_code(command)


@pytest.mark.parametrize("command", [
    "python -c 'import sys; print(sys.path)'",  # zwarm flagged any "import "
    "grep -rn 'class Foo' src/",  # …and any "class "
    "pytest -q 2>&1 | tail -5",
    "ruff check . > /tmp/ruff.log",
    "git diff > changes.patch",
    "echo done > notes.md",
    "cat app.py",
])
def test_does_not_flag_verification(command: str) -> None:
    assert not writes_code(command)


def bash(n: int) -> list[ToolCall]:
    return [ToolCall(call_id=f"c{n}", name="bash", arguments='{"command": "ls"}')]


async def test_reminder_counts_waiting_and_reading_as_supervision() -> None:
    manager = WatcherManager(WatchersConfig(watchers=[
        WatcherSpec(name="delegation_reminder", config={"threshold": 3})]))
    supervising = ["sleep", "wait_for_sessions", "peek_session", "get_trajectory"]
    steps = []
    for n, name in enumerate(supervising):
        steps += [bash(n), [ToolCall(call_id=f"s{n}", name=name, arguments="{}")]]
    assert await manager.observe(RunState(step=len(steps), max_steps=50, calls=steps)) == []
    steps += [bash(10), bash(11), bash(12)]
    first = await manager.observe(RunState(step=len(steps), max_steps=50, calls=steps))
    assert len(first) == 1
    steps += [bash(13)]
    assert await manager.observe(RunState(step=len(steps), max_steps=50, calls=steps)) == []


def test_unknown_watcher_is_reported_not_fatal() -> None:
    manager = WatcherManager(WatchersConfig(watchers=[WatcherSpec(name="qualty"),
                                                      WatcherSpec(name="budget")]))
    assert [w.name for w in manager.watchers] == ["budget"]
    assert "unknown watcher 'qualty'" in manager.warnings[0]


async def test_disabled_watchers_do_nothing() -> None:
    manager = WatcherManager(WatchersConfig(enabled=False))
    state = RunState(step=49, max_steps=50, calls=[bash(n) for n in range(49)])
    assert await manager.observe(state) == []
