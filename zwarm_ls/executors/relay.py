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
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ..aio import wait_event
from ..runner import _detach, process_start_ticks
from ..store import SessionMeta, Store, TurnPaths, now_iso, read_json, write_json_atomic
from .jobs_api import TERMINAL, JobsApi
from .ray_job import PREFIX
from .slots import Slots

STATUS_POLL_S = 1.0
SUBMIT_TIMEOUT_S = 300.0  # an upload of a big working dir to a far cluster


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

    def replay(self, text: str) -> None:
        """The whole log again (re-attach, a gap, the end): only what is missing is
        written. Its last line may still be growing, so an unfinished line is left out."""
        live, self.partial = self.partial, ""
        self.feed(text)
        self.partial = live

    def _line(self, line: str) -> None:
        if not line.startswith(PREFIX + " "):
            return  # Ray's own lines
        try:
            self._frame(line)
        except (ValueError, KeyError, IndexError):  # binascii.Error is a ValueError
            self.gap = True  # a damaged frame: the next replay of the log fills it in

    def _frame(self, line: str) -> None:
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

    def api(self) -> JobsApi:
        return JobsApi(self.state["address"])

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
        request = self.paths.output.with_suffix(".submit.json")
        write_json_atomic(request, {
            "address": self.state["address"], "entrypoint": "python -m zwarm_ls.executors.ray_job",
            "submission_id": submission_id, "runtime_env": runtime_env,
            "entrypoint_resources": self.state.get("resources") or None,
            "metadata": {"zwarm_session": self.session_id, "zwarm_turn": str(self.turn),
                         "zwarm_store": str(self.store.root)}})
        proc = subprocess.run([sys.executable, "-m", "zwarm_ls.executors.submit", str(request)],
                              stdin=subprocess.DEVNULL, capture_output=True, check=False,
                              timeout=SUBMIT_TIMEOUT_S)
        if proc.returncode != 0:
            said = proc.stderr.decode(errors="replace").strip().splitlines()
            raise OSError(f"Ray did not take the job: {said[-1] if said else proc.returncode}")
        return submission_id

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

    async def follow(self) -> tuple[str, dict]:
        api = self.api()
        submission_id = self.state["submission_id"]
        info = await asyncio.to_thread(api.info, submission_id)
        located = False
        ended = asyncio.Event()

        async def tail() -> None:
            # Reconnect until the job has ended (a tail may close early, e.g. while the
            # job is still pending); each connection starts at the log's start, and the
            # offsets skip what was written already.
            while not ended.is_set():
                self.reader.partial = ""
                with contextlib.suppress(Exception):
                    async for text in api.tail(submission_id):
                        self.reader.feed(text)
                await wait_event(ended, 1.0)

        tailing = asyncio.create_task(tail())
        while True:
            status, node = info.get("status"), info.get("driver_node_id")
            if self.stop_requested and status not in TERMINAL:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(api.stop, submission_id)
                self.stop_requested = False
            if not located and node:
                located = True
                self.save_state(node_id=node)
                self.set_location(f"node {node[:12]} · job {submission_id}", running=True)
            if self.reader.gap:
                self.reader.gap = False
                with contextlib.suppress(OSError):
                    self.reader.replay(await asyncio.to_thread(api.logs, submission_id))
            if status in TERMINAL:
                ended.set()
                break
            await asyncio.sleep(STATUS_POLL_S)
            with contextlib.suppress(OSError):  # a blip of the head: ask again next time
                info = await asyncio.to_thread(api.info, submission_id)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                await tailing
        tailing.cancel()
        # The whole log once more: whatever the tail missed at the end is filled in by
        # offset, nothing is written twice.
        with contextlib.suppress(OSError):
            self.reader.replay(await asyncio.to_thread(api.logs, submission_id))
        return str(status), info

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

    def settle(self, status: str, info: dict | None) -> None:
        from ..turns import ExitRecord, finalize_turn

        exit_data = self.reader.exit
        if status == "STOPPED":
            record = ExitRecord(exit_code=None, killed=True, ended_at=now_iso())
        elif exit_data is not None:
            record = ExitRecord(exit_code=exit_data.get("exit_code"),
                                killed=bool(exit_data.get("killed")),
                                reason=exit_data.get("reason"), ended_at=now_iso())
        else:
            message = short_reason((info or {}).get("message") or "no reason given")
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
