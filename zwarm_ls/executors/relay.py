"""The relay of one remote turn: `python -m zwarm_ls.executors.relay ROOT SESSION TURN`.

To the index it is a runner like any other: a detached process group on this machine
that writes `turn_N.run.json` (itself), fills `turn_N.jsonl` and `turn_N.stderr`, and
writes `turn_N.exit.json` at the end. What it runs is a Ray job (`ray_job.py`): it takes
the turn's "pre" snapshot, sends it as a git bundle, submits the job, copies the job's
framed log into the turn files (by byte offset: never a byte twice), and when the job
ends, fetches the result bundle into the shadow repo, writes it into the session's
worktree and takes the "post" snapshot — so the change set is an ordinary worktree
change set. It outlives the daemon; with `--attach` a new relay picks up a job that is
already running (the old relay died) and writes only what is missing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..runner import _detach, process_start_ticks
from ..store import SessionMeta, Store, TurnPaths, now_iso, read_json, write_json_atomic
from .ray_job import PREFIX
from .slots import Slots

STATUS_POLL_S = 1.0
SUBMIT_RETRY_S = 30.0
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


def state_path(paths: TurnPaths) -> Path:
    return paths.output.with_suffix(".ray.json")


def upload_dir(paths: TurnPaths) -> Path:
    return paths.output.with_suffix(".ray")


def short_reason(message: str, limit: int = 400) -> str:
    """Ray's failure message in a line or two: what died, and (last) why."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    if len(lines) > 1:
        lines = [lines[0], lines[-1]]
    text = " … ".join(lines)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class FrameReader:
    """Turns the job's log text (in arbitrary pieces) into turn-file bytes and results."""

    def __init__(self, paths: TurnPaths):
        self.files = {"out": paths.output, "err": paths.stderr}
        self.sizes = {k: p.stat().st_size if p.exists() else 0 for k, p in self.files.items()}
        self.partial = ""
        self.bundle: dict[int, bytes] = {}
        self.result: dict | None = None
        self.exit: dict | None = None
        self.gap = False  # a frame began past what we have: something was missed

    def feed(self, text: str) -> None:
        text, self.partial = self.partial + text, ""
        lines = text.split("\n")
        self.partial = lines.pop()
        for line in lines:
            self._line(line)

    def _line(self, line: str) -> None:
        if not line.startswith(PREFIX + " "):
            return  # Ray's own lines
        parts = line.split(" ", 3)
        kind = parts[1]
        if kind in self.files and len(parts) == 4:
            offset, data = int(parts[2]), base64.b64decode(parts[3])
            have = self.sizes[kind]
            if offset > have:
                self.gap = True
                return
            if offset + len(data) <= have:
                return  # written before (a re-read log)
            with open(self.files[kind], "ab") as f:
                f.write(data[have - offset:])
            self.sizes[kind] = offset + len(data)
        elif kind == "bundle" and len(parts) == 4:
            self.bundle[int(parts[2])] = base64.b64decode(parts[3])
        elif kind == "result":
            self.result = json.loads(line.split(" ", 2)[2])
        elif kind == "exit":
            self.exit = json.loads(line.split(" ", 2)[2])


class Relay:
    def __init__(self, store: Store, session_id: str, turn: int):
        self.store, self.session_id, self.turn = store, session_id, turn
        self.paths = store.turn_paths(session_id, turn)
        self.state = read_json(state_path(self.paths)) or {}
        self.stop_requested = False
        self.reader = FrameReader(self.paths)

    def save_state(self, **changes: object) -> None:
        self.state.update(changes)
        write_json_atomic(state_path(self.paths), self.state)

    def client(self):  # Ray's JobSubmissionClient, imported late
        from ray.job_submission import JobSubmissionClient

        return JobSubmissionClient(self.state["address"])

    # ----- before the job --------------------------------------------------------------

    def pack_base(self) -> str:
        """Snapshot the worktree ("pre"), and bundle that tree alone (a commit without
        parents: no history, nothing of the user's .git) for the worker."""
        from ..changes.changeset import ChangeSets, session_prefix

        meta = self.meta()
        cap = (getattr(meta, "change_set", None) or {}).get("max_file_bytes") or 5 << 20
        changes = ChangeSets(self.store, int(cap))
        pre = changes.record(meta, self.turn, "pre")
        if pre is None:
            raise OSError("the session's worktree is gone; nothing to send")
        shadow = changes.shadow
        ref = f"{session_prefix(self.session_id)}t{self.turn}/send"
        root = shadow.out(["commit-tree", shadow.tree_of(pre), "-m", "zwarm-ls remote base"])
        shadow.set_ref(ref, root)
        folder = upload_dir(self.paths)
        shadow.run(["bundle", "create", "-q", str(folder / "base.bundle"), ref])
        return ref

    def submit(self) -> str:
        folder = upload_dir(self.paths)
        spec = read_json(folder / "spec.json") or {}
        spec["base_ref"] = self.pack_base()
        write_json_atomic(folder / "spec.json", spec)
        runtime_env = dict(self.state.get("runtime_env") or {})
        runtime_env["working_dir"] = str(folder)
        package = str(Path(__file__).resolve().parent.parent)  # this zwarm_ls, exactly
        runtime_env["py_modules"] = [*runtime_env.get("py_modules", []), package]
        submission_id = f"zwarm-{self.session_id[:8]}-t{self.turn}-{os.urandom(3).hex()}"
        self.save_state(submission_id=submission_id)  # before: a crash here can re-find it
        client = self.client()
        deadline = time.monotonic() + SUBMIT_RETRY_S
        while True:
            try:
                client.submit_job(
                    entrypoint="python -m zwarm_ls.executors.ray_job",
                    submission_id=submission_id, runtime_env=runtime_env,
                    entrypoint_resources=self.state.get("resources") or None,
                    metadata={"zwarm_session": self.session_id, "zwarm_turn": str(self.turn),
                              "zwarm_store": str(self.store.root)})
                return submission_id
            except RuntimeError as exc:
                # A head that has just started answers 500 until its job agent is up.
                if "No available agent" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def meta(self) -> SessionMeta:
        meta = self.store.read_meta(self.session_id)
        if meta is None:
            raise OSError(f"session {self.session_id} has no meta.json")
        return meta

    def set_location(self, text: str, running: bool = False) -> None:
        def change(m: SessionMeta) -> None:
            extra = m.model_extra if m.model_extra is not None else {}
            extra["executor"], extra["location"] = "ray", text
            if running:
                rec = m.turn_record(self.turn)
                if rec is not None and rec.ended_at is None and rec.status == "pending":
                    rec.started_at, rec.status = now_iso(), "running"
                if m.turn == self.turn and m.status == "pending":
                    m.status, m.pid = "running", os.getpid()

        self.store.update(self.session_id, change)

    # ----- following the job -------------------------------------------------------------

    async def follow(self) -> tuple[str, object]:
        client = self.client()
        submission_id = self.state["submission_id"]
        info = await asyncio.to_thread(client.get_job_info, submission_id)
        located = False

        async def tail() -> None:
            async for text in client.tail_job_logs(submission_id):
                self.reader.feed(text)

        tailing = asyncio.create_task(tail())
        while True:
            if self.stop_requested and not info.status.is_terminal():
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(client.stop_job, submission_id)
                self.stop_requested = False
            if not located and info.driver_node_id:
                located = True
                self.save_state(node_id=info.driver_node_id)
                self.set_location(f"node {info.driver_node_id[:12]} · job {submission_id}",
                                  running=True)
            if info.status.is_terminal():
                break
            await asyncio.sleep(STATUS_POLL_S)
            info = await asyncio.to_thread(client.get_job_info, submission_id)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(tailing, 10)
        tailing.cancel()
        # The whole log once more: whatever the tail missed at the end is filled in by
        # offset, nothing is written twice.
        with contextlib.suppress(Exception):
            reader = FrameReader(self.paths)
            reader.feed(await asyncio.to_thread(client.get_job_logs, submission_id) + "\n")
            self.reader = reader if reader.exit or not self.reader.exit else self.reader
        return str(info.status), info

    # ----- after the job -------------------------------------------------------------------

    def take_result(self) -> str | None:
        """Fetch the result bundle into the shadow repo, write it into the worktree and
        snapshot it ("post"). Returns why it could not, or None."""
        from ..changes.changeset import ChangeSets, Scope, session_prefix

        meta = self.meta()
        cap = (getattr(meta, "change_set", None) or {}).get("max_file_bytes") or 5 << 20
        changes = ChangeSets(self.store, int(cap))
        result = self.reader.result or {}
        head = result.get("head")
        scope = Scope.of(meta)
        if head and scope is not None:
            data = b"".join(self.reader.bundle[i] for i in sorted(self.reader.bundle))
            if len(data) != result.get("size"):
                return "the result bundle arrived incomplete"
            bundle = upload_dir(self.paths) / "result.bundle"
            bundle.write_bytes(data)
            shadow = changes.shadow
            ref = f"{session_prefix(self.session_id)}t{self.turn}/remote"
            shadow.run(["fetch", "-q", str(bundle), f"+refs/heads/result:{ref}"])
            send = shadow.rev(f"{session_prefix(self.session_id)}t{self.turn}/send")
            patch = shadow.run(["diff", "--no-ext-diff", "--binary", "--no-renames",
                                send or "", ref]).stdout
            if patch:
                shadow.run(["apply", "--binary", "--whitespace=nowarn", "-"],
                           root=scope.agent_root, cwd=scope.agent_root, stdin=patch)
        changes.record(meta, self.turn, "post")
        return None

    def settle(self, status: str, info: object) -> None:
        from ..turns import ExitRecord, finalize_turn

        exit_data = self.reader.exit
        if status == "STOPPED":
            record = ExitRecord(exit_code=None, killed=True, ended_at=now_iso())
        elif exit_data is not None:
            record = ExitRecord(exit_code=exit_data.get("exit_code"),
                                killed=bool(exit_data.get("killed")),
                                reason=exit_data.get("reason"), ended_at=now_iso())
        else:
            message = short_reason(getattr(info, "message", None) or "no reason given")
            record = ExitRecord(exit_code=None, reason=f"the Ray job {status.lower()}: "
                                f"{message}", ended_at=now_iso())
        if status != "STOPPED" and exit_data is not None:
            try:
                problem = self.take_result()
            except Exception as exc:
                problem = f"the remote result could not be taken: {exc}"
            if problem:
                record = ExitRecord(exit_code=record.exit_code, reason=problem,
                                    ended_at=record.ended_at)
        try:
            finalize_turn(self.store, self.session_id, self.turn, record)
            if record.reason and not record.killed:
                self.store.update(self.session_id, self._failed(record.reason))
        finally:
            write_json_atomic(self.paths.exit, record.dump())

    def _failed(self, reason: str) -> Callable[[SessionMeta], None]:
        """A turn whose agent finished but whose result was lost failed, whatever the
        agent said: its work is not in the change set."""
        def change(m: SessionMeta) -> None:
            rec = m.turn_record(self.turn)
            if rec is not None:
                rec.status, rec.error = "failed", reason
            if m.turn == self.turn:
                m.status, m.error = "failed", reason
        return change


def run(store: Store, session_id: str, turn: int, ready_fd: int | None, attach: bool) -> None:
    relay = Relay(store, session_id, turn)
    pid = os.getpid()
    write_json_atomic(relay.paths.run, {"pid": pid, "pgid": os.getpgid(pid),
                                        "start_ticks": process_start_ticks(pid),
                                        "started_at": now_iso(), "relay": True})

    def on_term(_signum: int, _frame: object) -> None:
        relay.stop_requested = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def ready(ok: bool) -> None:
        nonlocal ready_fd
        if ready_fd is not None:
            if ok:
                os.write(ready_fd, b"1")
            os.close(ready_fd)
            ready_fd = None

    slots = Slots(store.zwarm_dir, int(relay.state.get("max_concurrent") or 16))
    try:
        if not attach:
            slots.wait_turn(session_id, turn, relay.set_location, on_queued=lambda: ready(True),
                            stopped=lambda: relay.stop_requested)
            if relay.stop_requested:
                relay.settle("STOPPED", None)
                return
            relay.submit()
        ready(True)
        status, info = asyncio.run(relay.follow())
        relay.settle(status, info)
    except Exception as exc:
        print(f"zwarm-ls relay: {exc}", file=sys.stderr)
        relay.save_state(error=str(exc))
        from ..turns import ExitRecord, finalize_turn

        record = ExitRecord(exit_code=None, reason=f"the remote turn failed: {exc}",
                            ended_at=now_iso())
        with contextlib.suppress(Exception):
            finalize_turn(store, session_id, turn, record)
        write_json_atomic(relay.paths.exit, record.dump())
        ready(False)
    finally:
        slots.release(session_id, turn)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    attach = "--attach" in args
    args = [a for a in args if a != "--attach"]
    if len(args) != 3:
        print("usage: python -m zwarm_ls.executors.relay ROOT SESSION_ID TURN [--attach]",
              file=sys.stderr)
        return 2
    store = Store(Path(args[0]))
    store.session_dir(args[1])  # validates the id before anything is touched
    ready_fd = _detach()
    try:
        run(store, args[1], int(args[2]), ready_fd, attach)
    finally:
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
