"""The detached runner of one turn: `python -m zwarm_ls.runner ROOT SESSION TURN`.

It detaches (double fork + setsid) so the agent outlives the daemon and the editor,
starts the agent CLI in its own process group with the prompt file on stdin, stdout to
turn_N.jsonl and stderr to turn_N.stderr, waits for it, settles the turn into meta.json
and finally writes turn_N.exit.json. `launch` (daemon side) starts a runner and returns
once the CLI is running; `terminate` ends a runner's whole process group, and never a
process that merely reuses its pid.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from .store import SessionMeta, Store, TurnPaths, now_iso, read_json, write_json_atomic


def process_start_ticks(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot, or None if there is no such process.
    Together with the pid it names one process for good, which defeats pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if fields[0] == "Z":  # a zombie has finished; treat it as gone
        return None
    return int(fields[19])


def runner_alive(run: dict) -> bool:
    pid, ticks = run.get("pid"), run.get("start_ticks")
    return isinstance(pid, int) and ticks is not None and process_start_ticks(pid) == ticks


# ----- daemon side -----------------------------------------------------------------------

# Every runner and agent carries these, and so does anything they start: `kill --all`
# finds an agent's background job by them after it left the turn's process group.
SESSION_ENV = "ZWARM_LS_SESSION_ID"
TURN_ENV = "ZWARM_LS_TURN"


def launch(store: Store, meta: SessionMeta, turn: int, prompt: str, argv: list[str],
           env: dict[str, str]) -> None:
    """Start the runner for `turn` and return once it has started the CLI (or failed to)."""
    paths = store.turn_paths(meta.id, turn)
    paths.output.parent.mkdir(parents=True, exist_ok=True)
    with launch_lock(paths):
        paths.prompt.write_text(prompt, encoding="utf-8")
        write_json_atomic(paths.output.with_suffix(".launch.json"),
                          {"argv": argv, "cwd": meta.working_dir})
        log_path = paths.output.with_suffix(".runner.log")
        with open(log_path, "ab") as runner_log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "zwarm_ls.runner", str(store.root), meta.id, str(turn)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=runner_log,
                cwd=meta.working_dir, close_fds=True,
                env={**env, SESSION_ENV: meta.id, TURN_ENV: str(turn)},
            )
        # The intermediate process exits as soon as the CLI is started; non-zero when the
        # runner died before that (it logged why, and settled the turn if it could).
        if proc.wait() != 0:
            raise RunnerFailed(f"the runner stopped before starting the agent (see {log_path})")


@contextlib.contextmanager
def launch_lock(paths: TurnPaths) -> Iterator[None]:
    """Held while a daemon starts the turn's runner, so another daemon can tell a launch in
    progress from one its daemon abandoned (the lock goes with the process that held it)."""
    fd = os.open(paths.output.with_suffix(".launch.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def launch_in_progress(paths: TurnPaths) -> bool:
    """Whether some process is starting this turn's runner right now."""
    try:
        fd = os.open(paths.output.with_suffix(".launch.lock"), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


class RunnerFailed(OSError):
    """The runner of a turn ended before it started the agent CLI."""


def terminate(paths: TurnPaths, grace_s: float = 3.0) -> bool:
    """End the turn's process group: SIGTERM, then SIGKILL after `grace_s`.

    Returns True if a live runner was signalled. Never signals a process whose start
    time differs from the runner's record (the pid was reused by something else).
    """
    run = read_json(paths.run)
    if not run or not runner_alive(run):
        return False
    pgid = run["pgid"]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not runner_alive(run):  # it writes its exit record before it exits
            return True
        time.sleep(0.05)
    if runner_alive(run):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    return True


def stop_orphaned_group(run: dict | None) -> bool:
    """The runner died without settling its turn (SIGKILL, OOM): end what is left of its
    process group — the agent CLI and its tools — so nothing runs unsupervised. Only
    processes that still belong to the group and started after the runner are signalled
    (a recycled group id is left alone). Returns whether something was stopped."""
    if not run or not isinstance(run.get("pgid"), int) or run.get("start_ticks") is None:
        return False
    pgid, born = run["pgid"], run["start_ticks"]
    stopped = False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and int(fields[19]) >= born and fields[0] != "Z":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                stopped = True
    return stopped


# ----- runner side -----------------------------------------------------------------------


def _detach() -> int:
    """Double fork. Returns the write end of a pipe the grandchild signals readiness on;
    the original process waits for that byte and exits."""
    read_fd, write_fd = os.pipe()
    if os.fork():
        os.close(write_fd)
        ok = os.read(read_fd, 1)
        os._exit(0 if ok else 1)
    os.close(read_fd)
    os.setsid()
    if os.fork():
        os._exit(0)
    return write_fd


def _mark_running(store: Store, session_id: str, turn: int) -> bool:
    """Mark the turn running; False when it was settled already (a daemon gave up on a
    launch it thought abandoned), and then nothing must be started."""
    still_open = True

    def change(m: SessionMeta) -> None:
        nonlocal still_open
        rec = m.turn_record(turn)
        still_open = rec is None or rec.ended_at is None
        if rec is not None and rec.ended_at is None:
            rec.started_at, rec.status = now_iso(), "running"
        if m.turn == turn and m.status in ("pending", "running"):
            m.status, m.pid = "running", os.getpid()

    store.update(session_id, change)
    return still_open


def _snapshot(store: Store, session_id: str, turn: int, phase: str) -> None:
    """Record the session's tree for its change set. A failed snapshot is logged (to the
    runner log, our stderr) and never stops the turn."""
    try:
        from .changes.changeset import ChangeSets  # after the fork: keep start-up light

        meta = store.read_meta(session_id)
        record = getattr(meta, "change_set", None) if meta else None
        if meta is None or not isinstance(record, dict):
            return
        cap = record.get("max_file_bytes") or 5 * 1024 * 1024
        ChangeSets(store, int(cap)).record(meta, turn, phase)  # type: ignore[arg-type]
    except Exception as exc:
        print(f"zwarm-ls runner: {phase} snapshot of turn {turn} failed: {exc}", file=sys.stderr)


def run_turn(store: Store, session_id: str, turn: int, ready_fd: int | None) -> int:
    from .turns import ExitRecord, finalize_turn  # after the fork: keep start-up light

    paths = store.turn_paths(session_id, turn)
    launch_spec = json.loads(paths.output.with_suffix(".launch.json").read_text())
    pid = os.getpid()
    write_json_atomic(paths.run, {"pid": pid, "pgid": os.getpgid(pid),
                                  "start_ticks": process_start_ticks(pid),
                                  "started_at": now_iso()})
    if not _mark_running(store, session_id, turn):
        print(f"zwarm-ls runner: turn {turn} was settled before it started; not starting it",
              file=sys.stderr)
        if ready_fd is not None:
            os.write(ready_fd, b"1")
            os.close(ready_fd)
        return 0
    _snapshot(store, session_id, turn, "pre")
    killed = False

    def on_term(signum: int, _frame: object) -> None:
        nonlocal killed
        killed = True
        if child is not None:  # forward, in case only the runner was signalled
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    child: subprocess.Popen[bytes] | None = None
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_code: int | None
    reason: str | None = None
    try:
        with open(paths.prompt, "rb") as stdin, open(paths.output, "ab") as out, \
                open(paths.stderr, "ab") as err:
            child = subprocess.Popen(launch_spec["argv"], cwd=launch_spec["cwd"], stdin=stdin,
                                     stdout=out, stderr=err, close_fds=True)
        if ready_fd is not None:
            os.write(ready_fd, b"1")
            os.close(ready_fd)
            ready_fd = None
        exit_code = child.wait()
    except OSError as exc:  # the CLI could not be started at all
        with open(paths.stderr, "a", encoding="utf-8") as err:
            err.write(f"cannot start {launch_spec['argv'][0]}: {exc}\n")
        exit_code, reason = 127, None
    finally:
        if ready_fd is not None:
            os.write(ready_fd, b"1")
            os.close(ready_fd)
    _snapshot(store, session_id, turn, "post")  # before the turn is settled: readers then see it
    record = ExitRecord(exit_code=exit_code, killed=killed, reason=reason, ended_at=now_iso())
    try:
        finalize_turn(store, session_id, turn, record)
    finally:
        write_json_atomic(paths.exit, record.dump())
    return 0


def _fail_turn(store: Store, session_id: str, turn: int, exc: BaseException) -> None:
    """The runner itself broke (a bug, a store it cannot write): say so in its log, and
    settle the turn as failed with the reason, so the session is not left running."""
    traceback.print_exception(exc, file=sys.stderr)
    from .turns import ExitRecord, finalize_turn

    paths = store.turn_paths(session_id, turn)
    record = ExitRecord(exit_code=None, reason=f"the runner failed: {type(exc).__name__}: {exc}",
                        ended_at=now_iso())
    try:
        finalize_turn(store, session_id, turn, record)
    except Exception:
        traceback.print_exc(file=sys.stderr)
    finally:
        if read_json(paths.exit) is None:
            with contextlib.suppress(OSError):
                write_json_atomic(paths.exit, record.dump())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m zwarm_ls.runner ROOT SESSION_ID TURN", file=sys.stderr)
        return 2
    root, session_id, turn = Path(args[0]), args[1], int(args[2])
    store = Store(root)
    store.session_dir(session_id)  # validates the id before anything is touched
    ready_fd = _detach()
    try:
        return run_turn(store, session_id, turn, ready_fd)
    except BaseException as exc:
        _fail_turn(store, session_id, turn, exc)
        return 1
    finally:
        sys.stderr.flush()
        os._exit(0)  # never unwind into the forked parent's code


if __name__ == "__main__":
    sys.exit(main())
