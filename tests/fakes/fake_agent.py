"""A stand-in for the `codex` and `claude` executables in fast tests.

It behaves like the real CLI at the process boundary: reads the prompt from stdin,
writes JSONL events to stdout, may write files, exits with a code. What it emits is
scripted by a JSON scenario (env FAKE_AGENT_SCENARIO) so tests can produce realistic
streams, truncated lines, binary garbage, huge lines, crashes and slow streams. Every
invocation is logged (argv, cwd, prompt) to FAKE_AGENT_LOG when set.

Scenario: {"turns": [[action, ...], ...]}; invocation N uses turns[N-1] (the last one
repeats). Actions:
  {"emit": {...}}            one JSON event line ("{thread_id}", "{prompt}" substituted)
  {"raw": "text"}            bytes as given (no newline added)
  {"garbage": n}             n random-ish non-UTF-8 bytes and a newline
  {"big_message": n}         an agent message of n characters on one line
  {"sleep": seconds}
  {"write": path, "text": s} create a file relative to cwd
  {"write_bytes": path, "hex": h}, {"delete": path}, {"rename": path, "to": path}
  {"stderr": text}
  {"exit": code}             stop here with this exit code
  {"crash": true}            SIGKILL itself mid-turn
  {"wait_for_file": path}    block until the file exists (to hold a turn open)
  {"detach": argv, "pid_file": path}  start argv in a session of its own (a background
                             job that leaves the turn's process group) and write its pid
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

FLAVOR = sys.argv[1]
ARGS = sys.argv[2:]


def thread_id() -> str:
    if FLAVOR == "codex" and "resume" in ARGS:
        return ARGS[ARGS.index("resume") + 1]
    if FLAVOR == "claude" and "--resume" in ARGS:
        return ARGS[ARGS.index("--resume") + 1]
    return str(uuid.uuid4())


def default_turn(flavor: str) -> list[dict]:
    if flavor == "codex":
        return [
            {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
            {"emit": {"type": "turn.started"}},
            {"emit": {"type": "item.completed", "item": {"id": "i0", "type": "reasoning",
                                                         "text": "planning the change"}}},
            {"write": "hello.txt", "text": "hello\n"},
            {"emit": {"type": "item.completed", "item": {
                "id": "i1", "type": "command_execution",
                "command": "/bin/bash -lc 'echo hello > hello.txt'",
                "aggregated_output": "", "exit_code": 0, "status": "completed"}}},
            {"emit": {"type": "item.completed", "item": {
                "id": "i2", "type": "file_change", "status": "completed",
                "changes": [{"path": "{cwd}/hello.txt", "kind": "add"}]}}},
            {"emit": {"type": "item.completed", "item": {"id": "i3", "type": "agent_message",
                                                         "text": "done: {prompt}"}}},
            {"emit": {"type": "turn.completed", "usage": {
                "input_tokens": 1000, "cached_input_tokens": 400, "output_tokens": 50}}},
        ]
    return [
        {"emit": {"type": "system", "subtype": "init", "session_id": "{thread_id}",
                  "model": "sonnet", "permissionMode": "acceptEdits", "tools": ["Bash"]}},
        {"emit": {"type": "assistant", "session_id": "{thread_id}", "message": {
            "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                         "input": {"command": "echo hello"}}]}}},
        {"emit": {"type": "user", "session_id": "{thread_id}", "message": {"role": "user",
                  "content": [{"type": "tool_result", "tool_use_id": "t1",
                               "content": "hello", "is_error": False}]}}},
        {"emit": {"type": "assistant", "session_id": "{thread_id}", "message": {
            "content": [{"type": "text", "text": "done: {prompt}"}]}}},
        {"emit": {"type": "result", "subtype": "success", "is_error": False,
                  "result": "done: {prompt}", "session_id": "{thread_id}",
                  "total_cost_usd": 0.0123,
                  "usage": {"input_tokens": 100, "output_tokens": 20,
                            "cache_read_input_tokens": 10, "cache_creation_input_tokens": 5}}},
    ]


def invocation_number(log_path: str | None) -> int:
    """How many times this flavor ran before (from the invocation log)."""
    if not log_path or not os.path.exists(log_path):
        return 0
    with open(log_path) as f:
        return sum(1 for line in f if json.loads(line).get("flavor") == FLAVOR)


def substitute(value, names: dict[str, str]):
    if isinstance(value, str):
        for key, repl in names.items():
            value = value.replace("{" + key + "}", repl)
        return value
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, names) for k, v in value.items()}
    return value


def main() -> int:
    prompt = sys.stdin.read()
    log_path = os.environ.get("FAKE_AGENT_LOG")
    number = invocation_number(log_path) + 1
    if log_path:
        with open(log_path, "a") as f:
            f.write(json.dumps({"flavor": FLAVOR, "argv": ARGS, "cwd": os.getcwd(),
                                "prompt": prompt, "pid": os.getpid()}) + "\n")
    scenario_path = os.environ.get("FAKE_AGENT_SCENARIO")
    turns = json.loads(Path(scenario_path).read_text())["turns"] if scenario_path else \
        [default_turn(FLAVOR)]
    actions = turns[min(number, len(turns)) - 1]
    names = {"thread_id": thread_id(), "prompt": prompt.strip()[:80], "cwd": os.getcwd()}
    out = sys.stdout.buffer
    for action in actions:
        if "emit" in action:
            out.write(json.dumps(substitute(action["emit"], names)).encode() + b"\n")
        elif "raw" in action:
            out.write(action["raw"].encode())
        elif "garbage" in action:
            out.write(bytes((i * 37 + 128) % 256 for i in range(action["garbage"])) + b"\n")
        elif "big_message" in action:
            text = "x" * action["big_message"]
            out.write(json.dumps({"type": "item.completed", "item": {
                "id": "big", "type": "agent_message", "text": text}}).encode() + b"\n")
        elif "sleep" in action:
            out.flush()
            time.sleep(action["sleep"])
        elif "write" in action:
            Path(action["write"]).write_text(action.get("text", ""))
        elif "write_bytes" in action:
            Path(action["write_bytes"]).write_bytes(bytes.fromhex(action["hex"]))
        elif "delete" in action:
            Path(action["delete"]).unlink()
        elif "rename" in action:
            Path(action["rename"]).rename(action["to"])
        elif "stderr" in action:
            sys.stderr.write(action["stderr"] + "\n")
        elif "wait_for_file" in action:
            out.flush()
            while not os.path.exists(action["wait_for_file"]):
                time.sleep(0.02)
        elif "detach" in action:
            job = subprocess.Popen(action["detach"], start_new_session=True,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            Path(action["pid_file"]).write_text(str(job.pid))
        elif "crash" in action:
            out.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        elif "exit" in action:
            out.flush()
            return int(action["exit"])
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
