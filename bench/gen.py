"""Synthetic but realistic session stores, in zwarm 3.9's exact on-disk format.

Turn files are what the CLIs really print: `codex exec --json` events (thread.started,
turn.started, item.started/item.completed for reasoning, command_execution, file_change,
todo_list and agent_message, turn.completed with usage) and `claude -p --output-format
stream-json` events (system init, assistant text/tool_use, user tool_result, result).
meta.json is `Session.to_dict()` as zwarm 3.9 leaves it after it noticed the end of the
last turn: `messages` holds that turn's parsed assistant messages, `exit_code` is null,
timestamps are naive local time. A share of sessions are "legacy" (no `adapter` key).

Bulk text (command output, messages) is sliced from one pre-built corpus instead of being
generated word by word, so 100 MB is written in a few seconds on a busy machine.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

CODEX_MODELS = ["gpt-5.1-codex-mini", "gpt-5.1-codex", "gpt-5.1-codex-max"]
CLAUDE_MODELS = ["sonnet", "opus", "haiku"]
SOURCES = ["user", "orchestrator:3b1e9f2a-8c4d-4f5e-9a6b-7c8d9e0f1a2b"]
_NAMES = ["index", "store", "session", "config", "runner", "parser", "adapter", "render",
          "client", "server", "turns", "costs", "events", "watcher", "tools", "cache",
          "queue", "router", "schema", "models", "handler", "utils", "auth", "db"]
_VERBS = ["load", "parse", "build", "read", "write", "update", "resolve", "render", "check",
          "merge", "split", "flush", "start", "stop", "validate", "compute", "format"]
_TASKS = ["Fix the off-by-one in {n}.py", "Add tests for {n}.{v}", "Refactor {n} to use "
          "dataclasses", "Make {v}_{n} async", "Investigate the flaky test in test_{n}.py",
          "Document the {n} module", "Speed up {v}_{n}", "Remove the dead code in {n}.py"]


def _corpus(rng: random.Random, lines: int = 30_000) -> str:
    """Lines that look like what agents read and print: source, pytest, ls, grep, diffs."""
    out: list[str] = []
    for i in range(lines):
        n, v, m = rng.choice(_NAMES), rng.choice(_VERBS), rng.choice(_NAMES)
        kind = i % 6
        if kind == 0:
            out.append(f"    def {v}_{n}(self, {m}: {m.title()} | None = None) -> {n.title()}:")
        elif kind == 1:
            pct = rng.randint(0, 100)
            verdict = rng.choice(["PASSED", "PASSED", "FAILED"])
            out.append(f"tests/test_{n}.py::test_{v}_{m} {verdict} [{pct:3d}%]")
        elif kind == 2:
            size, day, minute = rng.randint(100, 99999), rng.randint(1, 30), rng.randint(0, 59)
            out.append(f"-rw-r--r-- 1 dev dev {size:6d} Nov {day:2d} 10:{minute:02d} {n}_{m}.py")
        elif kind == 3:
            line = rng.randint(1, 900)
            out.append(f"zwarm_ls/{n}.py:{line}:        {m} = self.{v}({n}, \"{m}\")")
        elif kind == 4:
            sign, k = rng.choice("+- "), rng.randint(0, 9)
            out.append(f"{sign}        return {v}_{m}({n}[{k}])\t# {v}")
        else:
            old, new = rng.randint(1, 500), rng.randint(1, 500)
            out.append(f"@@ -{old},7 +{new},8 @@ class {n.title()}:")
    return "\n".join(out) + "\n"


class Text:
    """Random slices of one corpus, cut at line boundaries."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.corpus = _corpus(rng)

    def block(self, nbytes: int) -> str:
        nbytes = max(1, min(nbytes, len(self.corpus) // 2))
        start = self.rng.randrange(len(self.corpus) - nbytes)
        start = self.corpus.find("\n", start) + 1
        end = self.corpus.rfind("\n", start, start + nbytes)
        return self.corpus[start:end if end > start else start + nbytes]

    def prose(self, nbytes: int) -> str:
        return " ".join(self.block(nbytes).split())

    def task(self) -> str:
        return self.rng.choice(_TASKS).format(n=self.rng.choice(_NAMES), v=self.rng.choice(_VERBS))


def dumps(event: dict[str, Any]) -> str:
    # Both CLIs print compact JSON (serde_json / JSON.stringify), one object per line.
    return json.dumps(event, separators=(",", ":")) + "\n"


def _output_size(rng: random.Random) -> int:
    """Command output sizes: mostly small, a long tail of big test logs and cat'ed files."""
    return min(int(rng.lognormvariate(7.0, 1.3)), 64_000)


# ----- codex exec --json -----------------------------------------------------------------


@dataclass
class TurnResult:
    lines: list[str]
    messages: list[str]
    usage: dict[str, int]
    error: str | None


def codex_turn(text: Text, size: int, cwd: str, ending: str) -> TurnResult:
    """One `codex exec --json` turn of about `size` bytes.

    ending: "completed", "failed" (error + turn.failed), or "open" (still running or
    killed: the stream simply stops)."""
    rng = text.rng
    thread_id = str(uuid.UUID(int=rng.getrandbits(128)))
    lines = [dumps({"type": "thread.started", "thread_id": thread_id}),
             dumps({"type": "turn.started"})]
    messages: list[str] = []
    total, item = sum(map(len, lines)), 0
    while total < size:
        ident = f"item_{item}"
        item += 1
        roll = rng.random()
        if roll < 0.12:
            new = [dumps({"type": "item.completed", "item": {
                "id": ident, "type": "reasoning", "text": "**" + text.prose(rng.randint(80, 600))
                + "**"}})]
        elif roll < 0.72:
            tool = rng.choice(["rg -n", "sed -n 1,200p", "pytest -q", "ls -la", "cat", "git diff"])
            command = f"/bin/bash -lc '{tool} {rng.choice(_NAMES)}.py'"
            started = {"id": ident, "type": "command_execution", "command": command,
                       "aggregated_output": "", "exit_code": None, "status": "in_progress"}
            done = {**started, "aggregated_output": text.block(_output_size(rng)),
                    "exit_code": rng.choice([0, 0, 0, 0, 1]), "status": "completed"}
            new = [dumps({"type": "item.started", "item": started}),
                   dumps({"type": "item.completed", "item": done})]
        elif roll < 0.84:
            changes = [{"path": f"{cwd}/zwarm_ls/{rng.choice(_NAMES)}.py",
                        "kind": rng.choice(["update", "update", "add"])}
                       for _ in range(rng.randint(1, 3))]
            new = [dumps({"type": "item.completed", "item": {
                "id": ident, "type": "file_change", "changes": changes, "status": "completed"}})]
        elif roll < 0.88:
            items = [{"text": text.prose(60), "completed": rng.random() < 0.5} for _ in range(4)]
            new = [dumps({"type": "item.completed", "item": {
                "id": ident, "type": "todo_list", "items": items}})]
        else:
            message = text.prose(rng.randint(100, 1200))
            messages.append(message)
            new = [dumps({"type": "item.completed", "item": {
                "id": ident, "type": "agent_message", "text": message}})]
        lines += new
        total += sum(map(len, new))
    usage = {"input_tokens": rng.randint(5_000, 900_000), "cached_input_tokens": 0,
             "output_tokens": rng.randint(200, 40_000)}
    usage["cached_input_tokens"] = int(usage["input_tokens"] * rng.uniform(0.3, 0.9))
    error = None
    if ending == "completed":
        final = text.prose(rng.randint(200, 1500))
        messages.append(final)
        lines.append(dumps({"type": "item.completed", "item": {
            "id": f"item_{item}", "type": "agent_message", "text": final}}))
        lines.append(dumps({"type": "turn.completed", "usage": usage}))
    elif ending == "failed":
        error = rng.choice(["stream disconnected before completion: error sending request",
                            "exceeded retry limit, last status: 429 Too Many Requests"])
        lines.append(dumps({"type": "error", "message": error}))
        lines.append(dumps({"type": "turn.failed", "error": {"message": error}}))
        usage = {}
    else:
        usage = {}
    return TurnResult(lines, messages, usage, error)


# ----- claude -p --output-format stream-json ---------------------------------------------


def claude_turn(text: Text, size: int, cwd: str, ending: str) -> TurnResult:
    rng = text.rng
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    model = "claude-sonnet-4-5-20250929"
    lines = [dumps({"type": "system", "subtype": "init", "cwd": cwd, "session_id": sid,
                    "tools": ["Bash", "Edit", "Read", "Write", "Grep", "Glob"],
                    "mcp_servers": [], "model": model, "permissionMode": "acceptEdits",
                    "apiKeySource": "none", "output_style": "default"})]
    messages: list[str] = []
    total, n = len(lines[0]), 0

    def assistant(content: list[dict[str, Any]]) -> str:
        return dumps({"type": "assistant", "message": {
            "id": f"msg_{rng.getrandbits(64):016x}", "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": None,
            "usage": {"input_tokens": rng.randint(1, 20), "output_tokens": rng.randint(1, 900),
                      "cache_read_input_tokens": rng.randint(0, 90_000)}},
            "parent_tool_use_id": None, "session_id": sid})

    while total < size:
        n += 1
        if rng.random() < 0.2:
            message = text.prose(rng.randint(100, 1000))
            messages.append(message)
            new = [assistant([{"type": "text", "text": message}])]
        else:
            tool_id = f"toolu_{rng.getrandbits(64):016x}"
            name = rng.choice(["Bash", "Read", "Edit", "Grep"])
            target = rng.choice(_NAMES)
            tool_input: dict[str, Any] = {"command": f"pytest -q tests/test_{target}.py",
                                          "description": "Run the tests"} if name == "Bash" \
                else {"file_path": f"{cwd}/{target}.py"}
            if name == "Edit":
                tool_input |= {"old_string": text.block(200), "new_string": text.block(240)}
            result = text.block(_output_size(rng))
            new = [assistant([{"type": "tool_use", "id": tool_id, "name": name,
                               "input": tool_input}]),
                   dumps({"type": "user", "message": {"role": "user", "content": [{
                       "tool_use_id": tool_id, "type": "tool_result", "content": result,
                       "is_error": rng.random() < 0.05}]}, "parent_tool_use_id": None,
                       "session_id": sid})]
        lines += new
        total += sum(map(len, new))
    usage = {"input_tokens": rng.randint(10, 400), "cache_creation_input_tokens":
             rng.randint(1000, 30_000), "cache_read_input_tokens": rng.randint(10_000, 900_000),
             "output_tokens": rng.randint(200, 30_000)}
    error = None
    if ending in ("completed", "failed"):
        failed = ending == "failed"
        final = "API Error: 529 overloaded" if failed else text.prose(rng.randint(200, 1200))
        lines.append(assistant([{"type": "text", "text": final}]))
        messages.append(final)  # zwarm parses the error text as an assistant message
        error = final if failed else None
        lines.append(dumps({"type": "result", "subtype": "success", "is_error": failed,
                            "duration_ms": rng.randint(5_000, 900_000), "num_turns": n,
                            "result": final, "session_id": sid,
                            "total_cost_usd": round(rng.uniform(0.01, 4.0), 6), "usage": usage}))
    return TurnResult(lines, messages, usage if ending == "completed" else {}, error)


# ----- stores ------------------------------------------------------------------------------


@dataclass
class SessionInfo:
    id: str
    adapter: str  # "codex" or "claude" (legacy sessions are codex)
    status: str
    turns: int
    bytes: int


@dataclass
class StoreSpec:
    sessions: int = 1000
    total_bytes: int = 100 * 1024 * 1024
    claude_share: float = 0.2
    legacy_share: float = 0.15
    running: int = 20
    running_pid: int = 0  # a live pid for running sessions (zwarm checks it with kill 0)
    seed: int = 1


def _statuses(rng: random.Random, spec: StoreSpec) -> Iterator[str]:
    for i in range(spec.sessions):
        if i < spec.running:
            yield "running"
        else:
            yield rng.choices(["completed", "failed", "killed"], weights=[85, 8, 7])[0]


def _sizes(rng: random.Random, spec: StoreSpec) -> list[int]:
    """Heavy-tailed per-session sizes that add up to total_bytes."""
    weights = [rng.lognormvariate(0.0, 1.1) for _ in range(spec.sessions)]
    scale = spec.total_bytes / sum(weights)
    return [max(2_000, int(w * scale)) for w in weights]


def _naive(ts: datetime) -> str:
    return ts.isoformat()  # zwarm writes datetime.now().isoformat(): local, no offset


def _meta(info: SessionInfo, task: str, model: str, cwd: str, created: datetime,
          result: TurnResult, legacy: bool, pid: int) -> dict[str, Any]:
    """meta.json exactly as zwarm 3.9's Session.to_dict() (key order included)."""
    ended = _naive(created + timedelta(minutes=3 * info.turns))
    messages: list[dict[str, Any]]
    if info.status in ("running", "killed"):
        # never re-parsed: still the task message zwarm saved at start
        messages = [{"role": "user", "content": task, "timestamp": _naive(created),
                     "metadata": {}}]
    else:
        messages = [{"role": "assistant", "content": m, "timestamp": ended, "metadata": {}}
                    for m in result.messages]
    usage = dict(result.usage)
    if usage:
        usage["total_tokens"] = usage.get("input_tokens", 0) + usage.get("output_tokens", 0)
    error = {"killed": "Manually killed", "failed": result.error}.get(info.status)
    if info.status == "completed" and result.error:
        error = f"Completed with error: {result.error}"
    meta: dict[str, Any] = {
        "id": info.id, "task": task, "status": info.status, "working_dir": cwd,
        "created_at": _naive(created), "updated_at": ended, "pid": pid, "exit_code": None,
        "model": model, "turn": info.turns, "messages": messages, "token_usage": usage,
        "error": error, "source": "user" if legacy else random.Random(info.id).choice(SOURCES),
    }
    if not legacy:
        meta["adapter"] = info.adapter
    return meta


def write_session(sessions_dir: Path, text: Text, info: SessionInfo, legacy: bool,
                  created: datetime, pid: int, cwd: str = "/home/dev/proj") -> int:
    """Write one session's turn files and meta.json; returns the bytes of turn files."""
    rng = text.rng
    turn_dir = sessions_dir / info.id / "turns"
    turn_dir.mkdir(parents=True)
    make = codex_turn if info.adapter == "codex" else claude_turn
    written = 0
    result = TurnResult([], [], {}, None)
    for turn in range(1, info.turns + 1):
        last = turn == info.turns
        ending = {"running": "open", "killed": "open"}.get(info.status, info.status) \
            if last else "completed"
        result = make(text, max(1_000, info.bytes // info.turns), cwd, ending)
        data = "".join(result.lines).encode()
        (turn_dir / f"turn_{turn}.jsonl").write_bytes(data)
        written += len(data)
    if info.status == "failed" and result.messages:
        info.status = "completed"  # zwarm 3.9: an error after any assistant text completes
    task = text.task()
    models = CODEX_MODELS if info.adapter == "codex" else CLAUDE_MODELS
    meta = _meta(info, task, rng.choice(models), cwd, created, result, legacy, pid)
    (sessions_dir / info.id / "meta.json").write_text(json.dumps(meta, indent=2))
    return written


def generate_store(root: Path, spec: StoreSpec) -> list[SessionInfo]:
    """A `.zwarm/sessions/` tree under `root` as zwarm 3.9 would have left it."""
    rng = random.Random(spec.seed)
    text = Text(rng)
    sessions_dir = root / ".zwarm" / "sessions"
    sessions_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now()
    infos: list[SessionInfo] = []
    for status, size in zip(_statuses(rng, spec), _sizes(rng, spec), strict=True):
        adapter = "claude" if rng.random() < spec.claude_share else "codex"
        legacy = adapter == "codex" and rng.random() < spec.legacy_share / (1 - spec.claude_share)
        turns = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
        info = SessionInfo(str(uuid.UUID(int=rng.getrandbits(128), version=4)), adapter,
                           status, turns, size)
        created = now - timedelta(minutes=rng.randint(5, 60 * 24 * 30))
        pid = spec.running_pid if status == "running" else rng.randint(2_000, 60_000)
        info.bytes = write_session(sessions_dir, text, info, legacy, created, pid)
        infos.append(info)
    return infos


def write_codex_file(path: Path, size: int, seed: int = 7) -> int:
    """One finished codex turn of about `size` bytes (for the ingest benchmark)."""
    text = Text(random.Random(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(codex_turn(text, size, "/home/dev/proj", "completed").lines).encode()
    path.write_bytes(data)
    return len(data)


def event_pool(count: int = 400, seed: int = 3) -> list[bytes]:
    """Short mid-turn codex events, as a streaming session prints them."""
    text = Text(random.Random(seed))
    lines = codex_turn(text, count * 900, "/home/dev/proj", "open").lines[2:]
    return [line.encode() for line in lines if len(line) < 4_000][:count]


def tree_bytes(root: Path) -> int:
    return sum(e.stat().st_size for e in _walk(root))


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path))
            elif entry.name.endswith(".jsonl"):
                yield entry
