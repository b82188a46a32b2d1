"""The entrypoint of a Ray job that runs one turn: `python -m zwarm_ls.executors.ray_job`,
started by Ray on a worker node in the job's working_dir (spec.json, prompt, base.bundle).

It checks the base snapshot out of the bundle into a scratch folder, runs the turn with
the runner's own `run_turn` against a throwaway store there (so the agent is started,
signalled and settled exactly as on the user's machine), and speaks to the local relay
through its log, one framed line at a time:

    @zwarm:1 out <offset> <base64>    the agent's stdout from byte <offset>
    @zwarm:1 err <offset> <base64>    the agent's stderr from byte <offset>
    @zwarm:1 bundle <seq> <base64>    the result as a git bundle, in pieces
    @zwarm:1 result <json>            {"head": sha} or {"head": null} (nothing changed)
    @zwarm:1 exit <json>              the turn's exit record

Offsets make the stream idempotent: a relay that re-reads the whole log after a restart
writes only the bytes its turn file does not have yet. Base64 keeps bytes exact (Ray's
log transport is text). Ray's own log lines around ours are ignored by the reader.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

PREFIX = "@zwarm:1"
CHUNK = 12 * 1024  # raw bytes per frame: lines stay well under any log reader's limit
POLL_S = 0.02
CHECKOUT_TOKEN = "{zwarm-checkout}"  # stands for the local working dir in the argv


def frame(kind: str, *parts: str) -> str:
    return " ".join((PREFIX, kind, *parts))


class Forwarder:
    """Copies what the agent writes to its files onto our stdout, framed with offsets."""

    def __init__(self, files: dict[str, Path]):
        self.files = files
        self.offsets = dict.fromkeys(files, 0)
        self.lock = threading.Lock()
        self.done = threading.Event()

    def pump(self) -> None:
        with self.lock:
            for kind, path in self.files.items():
                try:
                    with open(path, "rb") as f:
                        f.seek(self.offsets[kind])
                        while chunk := f.read(CHUNK):
                            line = frame(kind, str(self.offsets[kind]),
                                         base64.b64encode(chunk).decode())
                            print(line, flush=True)
                            self.offsets[kind] += len(chunk)
                except FileNotFoundError:
                    continue

    def run(self) -> None:
        while not self.done.wait(POLL_S):
            self.pump()


def git(args: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0",
               GIT_AUTHOR_NAME="agent", GIT_AUTHOR_EMAIL="agent@zwarm",
               GIT_COMMITTER_NAME="zwarm-ls", GIT_COMMITTER_EMAIL="zwarm-ls@zwarm")
    proc = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-c", "core.autocrlf=false",
                           "-c", "core.fsmonitor=false", *args], cwd=cwd, env=env,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode().strip()


def resolve_binary(name: str) -> str:
    """The agent CLI as found on this node: an absolute path only if it exists here."""
    if os.path.isabs(name) and os.access(name, os.X_OK):
        return name
    found = shutil.which(os.path.basename(name))
    return found or name  # not found: the runner reports "cannot start" with exit 127


def send_result(checkout: Path, base: str) -> None:
    git(["add", "-A"], checkout)
    tree = git(["write-tree"], checkout)
    if tree == git(["rev-parse", f"{base}^{{tree}}"], checkout):
        print(frame("result", json.dumps({"head": None})), flush=True)
        return
    head = git(["commit-tree", tree, "-p", base, "-m", "zwarm-ls remote turn"], checkout)
    git(["update-ref", "refs/heads/result", head], checkout)
    bundle = checkout.parent / "result.bundle"
    git(["bundle", "create", "-q", str(bundle), f"{base}..refs/heads/result"], checkout)
    data = bundle.read_bytes()
    for seq, start in enumerate(range(0, len(data), CHUNK)):
        print(frame("bundle", str(seq), base64.b64encode(data[start:start + CHUNK]).decode()),
              flush=True)
    print(frame("result", json.dumps({"head": head, "size": len(data)})), flush=True)


def main() -> int:
    from ..runner import SESSION_ENV, TURN_ENV, run_turn
    from ..store import SessionMeta, Store, TurnRecord, now_iso
    from ..turns import ExitRecord

    here = Path.cwd()
    spec = json.loads((here / "spec.json").read_text())
    scratch = Path(tempfile.mkdtemp(prefix="zwarm-turn-"))
    checkout = scratch / "checkout"
    record = ExitRecord(exit_code=None, reason="the remote turn could not start")
    try:
        checkout.mkdir()
        git(["init", "-q"], checkout)
        git(["fetch", "-q", str(here / "base.bundle"), spec["base_ref"]], checkout)
        base = git(["rev-parse", "FETCH_HEAD"], checkout)
        git(["checkout", "-q", "--detach", base], checkout)
        store = Store(scratch / "store")
        session_id, turn = spec["session_id"], int(spec["turn"])
        turns = [TurnRecord(turn=t) for t in range(1, turn + 1)]
        store.create(SessionMeta(id=session_id, status="pending", working_dir=str(checkout),
                                 model=spec["model"], adapter=spec["adapter"], turn=turn,
                                 created_at=now_iso(), updated_at=now_iso(), turns=turns))
        paths = store.turn_paths(session_id, turn)
        paths.output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(here / "prompt", paths.prompt)
        argv = [str(checkout) if a == CHECKOUT_TOKEN else a for a in spec["argv"]]
        argv[0] = resolve_binary(argv[0])
        (paths.output.with_suffix(".launch.json")).write_text(
            json.dumps({"argv": argv, "cwd": str(checkout)}))
        os.environ.update(spec.get("env") or {})
        # As on the daemon's machine: the agent and anything it starts carry the session,
        # so `zwarm-ls kill --all` on the worker finds what an agent left behind.
        os.environ.update({SESSION_ENV: session_id, TURN_ENV: str(turn)})
        forwarder = Forwarder({"out": paths.output, "err": paths.stderr})
        thread = threading.Thread(target=forwarder.run, daemon=True)
        thread.start()
        run_turn(store, session_id, turn, None)
        forwarder.done.set()
        thread.join()
        forwarder.pump()
        record = ExitRecord.read(paths.exit) or record
        send_result(checkout, base)
    except Exception as exc:  # said in the exit record: the relay fails the turn with it
        record = ExitRecord(exit_code=None, reason=f"the remote turn failed: {exc}")
    finally:
        print(frame("exit", json.dumps(record.dump())), flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
