"""A scripted model server on 127.0.0.1 for driving real agent CLIs and SDK clients offline.

It speaks two wire protocols, each with its own ordered list of scripted replies:

  POST /v1/responses             OpenAI Responses API (SSE when `stream` is true, else JSON)
  POST /v1/messages[?beta=true]  Anthropic Messages API (SSE when `stream` is true, else JSON)

plus the small things real clients touch: `HEAD /` (200, Claude Code probes it),
`GET /v1/models` (a one-model list), `POST /v1/messages/count_tokens`. Anything else is
a JSON 404. Every request is recorded (method, path, headers, JSON body) in
`server.requests` and, if a log path is given, appended to a JSONL file.

Scenario (a dict, a JSON file path, or JSON text):

    {"responses": [reply, ...],      # OpenAI Responses API replies, in order
     "messages":  [reply, ...]}      # Anthropic Messages API replies, in order

("openai" / "anthropic" are accepted as aliases; a bare list is used for both APIs.)
Each model request takes the next reply of its API. A reply is one of

    {"text": "..."}                                      a plain assistant message
    {"tool_calls": [{"name": "exec_command", "arguments": {"cmd": "ls"}}, ...]}
                                                         several = parallel calls; may be
                                                         combined with "text" (text first)
    {"http_error": 500, "message": "..."}                an error status with an API error body
    {"broken_stream": true}                              the stream is cut mid-way
    {"hang": 30}                                         streams the opening event, then waits
                                                         30 s (or until the server stops) before
                                                         the rest ("text"/"tool_calls" if given)

and may add `"usage": {"input_tokens": n, "output_tokens": n, "cached_input_tokens": n}`
and `"times": n` (the reply is used for the next n requests, e.g. to outlast retries).
When a list runs out, the reply is the plain text "(scenario exhausted)".

In-process:

    with ScriptedModelServer({"responses": [{"text": "hi"}]}) as srv:
        srv.url              # http://127.0.0.1:PORT      (Anthropic base URL)
        srv.openai_base_url  # http://127.0.0.1:PORT/v1   (OpenAI base URL)
        srv.requests         # list of recorded requests (dicts)

As a process (prints the chosen port alone on the first stdout line):

    python -m tests.fakes.model_server --port 0 --scenario s.json --log req.jsonl

Only the standard library is used, so it runs with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import itertools
import json
import signal
import socket
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

EXHAUSTED_TEXT = "(scenario exhausted)"
APIS = ("responses", "messages")
_ALIASES = {"openai": "responses", "anthropic": "messages", "responses": "responses",
            "messages": "messages"}
_DEFAULT_USAGE = {"input_tokens": 100, "output_tokens": 20, "cached_input_tokens": 0}


class Scenario:
    """The per-API reply queues. Thread-safe; replies are handed out in order."""

    def __init__(self, spec: Any = None):
        self._lock = threading.Lock()
        self._queues: dict[str, list[dict[str, Any]]] = {api: [] for api in APIS}
        self._served: dict[str, int] = dict.fromkeys(APIS, 0)
        if spec is not None:
            self.load(spec)

    @staticmethod
    def parse(spec: Any) -> dict[str, list[dict[str, Any]]]:
        if isinstance(spec, Path) or (isinstance(spec, str) and not spec.lstrip().startswith(
                ("{", "["))):
            spec = json.loads(Path(spec).read_text(encoding="utf-8"))
        elif isinstance(spec, str):
            spec = json.loads(spec)
        if isinstance(spec, list):
            spec = {"responses": spec, "messages": spec}
        if not isinstance(spec, dict):
            raise ValueError("a scenario is an object {'responses': [...], 'messages': [...]}")
        out: dict[str, list[dict[str, Any]]] = {api: [] for api in APIS}
        for key, replies in spec.items():
            api = _ALIASES.get(key)
            if api is None:
                continue  # comments, descriptions: ignored
            if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
                raise ValueError(f"scenario '{key}' must be a list of reply objects")
            for reply in replies:
                out[api].extend(copy.deepcopy(reply) for _ in range(max(1, int(
                    reply.get("times", 1)))))
        return out

    def load(self, spec: Any) -> None:
        """Replace every queue (and restart counting)."""
        parsed = self.parse(spec)
        with self._lock:
            self._queues = parsed
            self._served = dict.fromkeys(APIS, 0)

    def push(self, api: str, *replies: dict[str, Any]) -> None:
        """Append replies to one API's queue."""
        api = _ALIASES[api]
        extra = self.parse({api: list(replies)})[api]
        with self._lock:
            self._queues[api].extend(extra)

    def next(self, api: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            index = self._served[api]
            self._served[api] += 1
            queue = self._queues[api]
            if index < len(queue):
                return index, copy.deepcopy(queue[index])
            return index, {"text": EXHAUSTED_TEXT, "exhausted": True}

    def remaining(self, api: str) -> int:
        with self._lock:
            return max(0, len(self._queues[api]) - self._served[api])


# ----- reply bodies --------------------------------------------------------------------------


def _usage_of(reply: dict[str, Any]) -> dict[str, int]:
    usage = dict(_DEFAULT_USAGE)
    usage.update({k: int(v) for k, v in (reply.get("usage") or {}).items()})
    return usage


def _arguments_json(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments or {})


def _chunks(text: str, parts: int = 3) -> list[str]:
    if not text:
        return [""]
    size = max(1, -(-len(text) // parts))
    return [text[i:i + size] for i in range(0, len(text), size)]


class _Ids:
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}_{next(self._counter):04d}{uuid.uuid4().hex[:12]}"


class ResponsesReply:
    """One scripted reply rendered as an OpenAI Responses API response / event stream."""

    def __init__(self, reply: dict[str, Any], body: dict[str, Any], ids: _Ids):
        self.reply, self.body, self.ids = reply, body, ids
        self.id = ids("resp")
        self.model = str(body.get("model") or "scripted-model")
        self.created_at = int(time.time())
        self.items = self._items()

    def _items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if self.reply.get("text") is not None or not self.reply.get("tool_calls"):
            text = str(self.reply.get("text") if self.reply.get("text") is not None
                       else EXHAUSTED_TEXT)
            items.append({"type": "message", "id": self.ids("msg"), "role": "assistant",
                          "status": "completed",
                          "content": [{"type": "output_text", "text": text, "annotations": []}]})
        for call in self.reply.get("tool_calls") or []:
            items.append({"type": "function_call", "id": self.ids("fc"),
                          "call_id": call.get("call_id") or self.ids("call"),
                          "name": call["name"], "arguments": _arguments_json(call.get(
                              "arguments")), "status": "completed"})
        return items

    def usage(self) -> dict[str, Any]:
        u = _usage_of(self.reply)
        return {"input_tokens": u["input_tokens"],
                "input_tokens_details": {"cached_tokens": u["cached_input_tokens"]},
                "output_tokens": u["output_tokens"],
                "output_tokens_details": {"reasoning_tokens": u.get("reasoning_tokens", 0)},
                "total_tokens": u["input_tokens"] + u["output_tokens"]}

    def response(self, status: str, output: list[dict[str, Any]],
                 usage: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": self.id, "object": "response", "created_at": self.created_at,
                "status": status, "error": None, "incomplete_details": None,
                "model": self.model, "output": output,
                "parallel_tool_calls": bool(self.body.get("parallel_tool_calls", True)),
                "tool_choice": self.body.get("tool_choice", "auto"), "tools": [],
                "usage": usage, "metadata": {}}

    def json_body(self) -> dict[str, Any]:
        return self.response("completed", self.items, self.usage())

    def opening(self) -> list[dict[str, Any]]:
        start = self.response("in_progress", [], None)
        return [{"type": "response.created", "response": start},
                {"type": "response.in_progress", "response": start}]

    def rest(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for index, item in enumerate(self.items):
            if item["type"] == "message":
                text = item["content"][0]["text"]
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "status": "in_progress", "content": []}})
                part = {"type": "output_text", "text": "", "annotations": []}
                events.append({"type": "response.content_part.added", "output_index": index,
                               "item_id": item["id"], "content_index": 0, "part": part})
                events += [{"type": "response.output_text.delta", "output_index": index,
                            "item_id": item["id"], "content_index": 0, "delta": chunk,
                            "logprobs": []} for chunk in _chunks(text)]
                events.append({"type": "response.output_text.done", "output_index": index,
                               "item_id": item["id"], "content_index": 0, "text": text,
                               "logprobs": []})
                events.append({"type": "response.content_part.done", "output_index": index,
                               "item_id": item["id"], "content_index": 0,
                               "part": item["content"][0]})
            else:
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "status": "in_progress", "arguments": ""}})
                events += [{"type": "response.function_call_arguments.delta",
                            "output_index": index, "item_id": item["id"], "delta": chunk}
                           for chunk in _chunks(item["arguments"], 2)]
                events.append({"type": "response.function_call_arguments.done",
                               "output_index": index, "item_id": item["id"],
                               "arguments": item["arguments"]})
            events.append({"type": "response.output_item.done", "output_index": index,
                           "item": item})
        events.append({"type": "response.completed",
                       "response": self.response("completed", self.items, self.usage())})
        return events

    @staticmethod
    def error_body(status: int, message: str) -> dict[str, Any]:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class MessagesReply:
    """One scripted reply rendered as an Anthropic Messages API message / event stream."""

    def __init__(self, reply: dict[str, Any], body: dict[str, Any], ids: _Ids):
        self.reply, self.body, self.ids = reply, body, ids
        self.id = ids("msg")
        self.model = str(body.get("model") or "scripted-model")
        self.blocks = self._blocks()
        self.stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in self.blocks) \
            else "end_turn"

    def _blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.reply.get("text") is not None or not self.reply.get("tool_calls"):
            text = str(self.reply.get("text") if self.reply.get("text") is not None
                       else EXHAUSTED_TEXT)
            blocks.append({"type": "text", "text": text})
        for call in self.reply.get("tool_calls") or []:
            args = call.get("arguments") or {}
            if isinstance(args, str):
                args = json.loads(args)
            blocks.append({"type": "tool_use", "id": call.get("call_id") or self.ids("toolu"),
                           "name": call["name"], "input": args})
        return blocks

    def usage(self, output_tokens: int | None = None) -> dict[str, int]:
        u = _usage_of(self.reply)
        return {"input_tokens": u["input_tokens"],
                "cache_creation_input_tokens": u.get("cache_creation_input_tokens", 0),
                "cache_read_input_tokens": u["cached_input_tokens"],
                "output_tokens": u["output_tokens"] if output_tokens is None else output_tokens}

    def message(self, content: list[dict[str, Any]], stop_reason: str | None,
                usage: dict[str, int]) -> dict[str, Any]:
        return {"id": self.id, "type": "message", "role": "assistant", "model": self.model,
                "content": content, "stop_reason": stop_reason, "stop_sequence": None,
                "usage": usage}

    def json_body(self) -> dict[str, Any]:
        return self.message(self.blocks, self.stop_reason, self.usage())

    def opening(self) -> list[dict[str, Any]]:
        return [{"type": "message_start", "message": self.message([], None, self.usage(1))},
                {"type": "ping"}]

    def rest(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for index, block in enumerate(self.blocks):
            if block["type"] == "text":
                events.append({"type": "content_block_start", "index": index,
                               "content_block": {"type": "text", "text": ""}})
                events += [{"type": "content_block_delta", "index": index,
                            "delta": {"type": "text_delta", "text": chunk}}
                           for chunk in _chunks(block["text"])]
            else:
                events.append({"type": "content_block_start", "index": index,
                               "content_block": {**block, "input": {}}})
                events += [{"type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": chunk}}
                           for chunk in _chunks(json.dumps(block["input"]), 2)]
            events.append({"type": "content_block_stop", "index": index})
        events.append({"type": "message_delta",
                       "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                       "usage": {"output_tokens": self.usage()["output_tokens"]}})
        events.append({"type": "message_stop"})
        return events

    @staticmethod
    def error_body(status: int, message: str) -> dict[str, Any]:
        kind = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
                529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


_REPLY_CLASSES = {"responses": ResponsesReply, "messages": MessagesReply}


def sse_event(event: dict[str, Any], seq: int | None = None) -> bytes:
    if seq is not None and event["type"].startswith("response."):
        event = {**event, "sequence_number": seq}
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


# ----- HTTP ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.server.owner.verbose:
            sys.stderr.write("model-server: " + (fmt % args) + "\n")

    # --- reading ---

    def _read_body(self) -> tuple[Any, bytes]:
        raw = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
        encoding = self.headers.get("Content-Encoding", "").lower()
        try:
            if encoding == "gzip":
                raw = gzip.decompress(raw)
            elif encoding == "deflate":
                raw = zlib.decompress(raw)
        except (OSError, zlib.error):
            pass
        if not raw:
            return None, raw
        try:
            return json.loads(raw), raw
        except ValueError:
            return None, raw

    def _record(self, body: Any, raw: bytes, api: str | None = None,
                reply_index: int | None = None, reply: dict[str, Any] | None = None) -> None:
        path, _, query = self.path.partition("?")
        self.server.owner._record({
            "t": time.time(), "method": self.command, "path": path, "query": query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body if body is not None or not raw else raw[:4000].decode("utf-8",
                                                                                "replace"),
            "api": api, "reply_index": reply_index, "reply": reply,
        })

    # --- writing ---

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        """Drop the connection without finishing the chunked body."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- verbs ---

    def do_HEAD(self) -> None:
        self._record(None, b"")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._record(None, b"")
        path = self.path.split("?")[0].rstrip("/")
        if path in ("", "/"):
            return self._send_json(200, {"status": "ok", "server": "scripted-model-server"})
        if path.endswith("/models"):
            return self._send_json(200, {"object": "list", "data": [
                {"id": "scripted-model", "object": "model", "created": 0, "owned_by": "tests",
                 "type": "model", "display_name": "Scripted model"}],
                "has_more": False, "first_id": "scripted-model", "last_id": "scripted-model"})
        self._send_json(404, {"error": {"message": f"no route GET {path}", "type": "not_found"}})

    def do_POST(self) -> None:
        body, raw = self._read_body()
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/messages/count_tokens"):
            self._record(body, raw)
            return self._send_json(200, {"input_tokens": 100})
        api = "responses" if path.endswith("/responses") else \
            "messages" if path.endswith("/messages") else None
        if api is None:
            self._record(body, raw)
            return self._send_json(404, {"error": {"message": f"no route POST {path}",
                                                   "type": "not_found"}})
        index, reply = self.server.owner.scenario.next(api)
        self._record(body, raw, api, index, reply)
        body = body if isinstance(body, dict) else {}
        try:
            self._reply(api, reply, body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client went away (killed, timed out)

    def _reply(self, api: str, reply: dict[str, Any], body: dict[str, Any]) -> None:
        cls = _REPLY_CLASSES[api]
        if reply.get("http_error"):
            status = int(reply["http_error"])
            message = str(reply.get("message") or f"scripted HTTP {status} error")
            headers = {"Retry-After": str(reply["retry_after"])} if "retry_after" in reply \
                else {"x-should-retry": "false"} if reply.get("no_retry") else None
            return self._send_json(status, cls.error_body(status, message), headers)
        rendered = cls(reply, body, self.server.owner.ids)
        stopping = self.server.owner.stopping
        if not body.get("stream"):
            if reply.get("hang"):
                stopping.wait(float(reply["hang"]))
            if reply.get("broken_stream"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "4096")
                self.end_headers()
                self.wfile.write(json.dumps(rendered.json_body()).encode()[:40])
                return self._cut()
            return self._send_json(200, rendered.json_body())
        seq = itertools.count()
        self._start_stream()
        for event in rendered.opening():
            self._chunk(sse_event(event, next(seq)))
        if reply.get("hang"):
            # Mid-stream silence. Some clients want bytes to keep the stream alive; a
            # comment line every few seconds is legal SSE and carries no event.
            deadline = time.monotonic() + float(reply["hang"])
            while not stopping.is_set() and (left := deadline - time.monotonic()) > 0:
                if stopping.wait(min(left, 5.0)):
                    break
                self._chunk(b": still thinking\n\n")
            if stopping.is_set():
                return self._cut()
        rest = rendered.rest()
        if reply.get("broken_stream"):
            keep = max(1, len(rest) // 3)
            for event in rest[:keep]:
                self._chunk(sse_event(event, next(seq)))
            half = sse_event(rest[keep], next(seq))
            self._chunk(half[: len(half) // 2])
            return self._cut()
        for event in rest:
            self._chunk(sse_event(event, next(seq)))
        self._end_stream()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: ScriptedModelServer):
        self.owner = owner
        super().__init__(address, _Handler)


class ScriptedModelServer:
    """The server; a context manager that runs it in a background thread."""

    def __init__(self, scenario: Any = None, *, host: str = "127.0.0.1", port: int = 0,
                 log_path: str | Path | None = None, verbose: bool = False):
        self.scenario = scenario if isinstance(scenario, Scenario) else Scenario(scenario)
        self.host, self.port = host, port
        self.log_path = Path(log_path) if log_path else None
        self.verbose = verbose
        self.requests: list[dict[str, Any]] = []
        self.ids = _Ids()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._new_request = threading.Condition(self._lock)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def bind(self) -> _HTTPServer:
        """Open the listening socket (the port is known from here on)."""
        if self._httpd is None:
            self._httpd = _HTTPServer((self.host, self.port), self)
            self.port = self._httpd.server_address[1]
        return self._httpd

    def start(self) -> ScriptedModelServer:
        """Serve from a background thread."""
        httpd = self.bind()
        self._thread = threading.Thread(target=httpd.serve_forever,
                                        name="scripted-model-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ---

    @property
    def url(self) -> str:
        """Base URL without a path: what ANTHROPIC_BASE_URL wants."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """Base URL with /v1: what an OpenAI client / codex `base_url` wants."""
        return f"{self.url}/v1"

    # --- the log ---

    def _record(self, entry: dict[str, Any]) -> None:
        with self._new_request:
            entry["seq"] = len(self.requests)
            self.requests.append(entry)
            if self.log_path is not None:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")
            self._new_request.notify_all()

    def model_requests(self, api: str | None = None) -> list[dict[str, Any]]:
        """The recorded model calls (POSTs that took a scripted reply), optionally of one API."""
        with self._lock:
            return [r for r in self.requests if r["api"] and (api is None or r["api"] == api)]

    def wait_for_requests(self, count: int, api: str | None = None,
                          timeout: float = 30.0) -> list[dict[str, Any]]:
        """Block until at least `count` model requests (of `api`) arrived; returns them."""
        deadline = time.monotonic() + timeout
        with self._new_request:
            while True:
                hits = [r for r in self.requests if r["api"] and (api is None or r["api"] == api)]
                left = deadline - time.monotonic()
                if len(hits) >= count or left <= 0:
                    return hits
                self._new_request.wait(left)

    # --- scenario shortcuts ---

    def load(self, scenario: Any) -> None:
        self.scenario.load(scenario)

    def push(self, api: str, *replies: dict[str, Any]) -> None:
        self.scenario.push(api, *replies)


def request_text(request: dict[str, Any]) -> str:
    """All the text a recorded model request carried (for 'did it send the history?')."""
    return json.dumps(request.get("body"))


def iter_input_items(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Responses API `input` items / Messages API `messages` of a recorded request."""
    body = request.get("body") or {}
    items: Iterable[Any] = body.get("input") or body.get("messages") or []
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    yield from (i for i in items if isinstance(i, dict))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.model_server",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--scenario", help="JSON scenario file (default: empty)")
    parser.add_argument("--log", help="append every request as one JSON line here")
    parser.add_argument("--verbose", action="store_true", help="access log on stderr")
    args = parser.parse_args(argv)
    server = ScriptedModelServer(args.scenario, host=args.host, port=args.port,
                                 log_path=args.log, verbose=args.verbose)
    httpd = server.bind()
    print(server.port, flush=True)
    print(f"scripted model server on {server.url} (OpenAI base {server.openai_base_url})",
          file=sys.stderr, flush=True)

    def on_term(*_: object) -> None:
        server.stopping.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        httpd.serve_forever()
    finally:
        server.stopping.set()
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
