"""Fixtures for the orchestrator and pilot: the scripted model server, a project whose
config points the orchestrator at it, and deterministic session ids so scripted model
replies can name the sessions they act on."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.model_server import ScriptedModelServer
from zwarm_ls.config import load_config
from zwarm_ls.service import SessionService
from zwarm_ls.store import Store

SESSION_A = "aaaaaaaa-0000-4000-8000-000000000001"
SESSION_B = "bbbbbbbb-0000-4000-8000-000000000002"
SESSION_C = "cccccccc-0000-4000-8000-000000000003"

PROVIDERS = ["openai", "anthropic"]
API = {"openai": "responses", "anthropic": "messages"}


def call(name: str, call_id: str | None = None, **arguments: Any) -> dict[str, Any]:
    """One scripted tool call, as the model server takes it."""
    out: dict[str, Any] = {"name": name, "arguments": arguments}
    if call_id:
        out["call_id"] = call_id
    return out


def calls(*tool_calls: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"tool_calls": list(tool_calls)}
    if text is not None:
        reply["text"] = text
    return reply


def write_config(project: Path, provider: str, server: ScriptedModelServer,
                 extra: str = "") -> None:
    base_url = server.openai_base_url if provider == "openai" else server.url
    (project / ".zwarm").mkdir(parents=True, exist_ok=True)
    (project / ".zwarm" / "config.toml").write_text(
        f'[orchestrator]\nprovider = "{provider}"\nmodel = "scripted-model"\n'
        f'base_url = "{base_url}"\nretry_backoff_s = 0.01\nmax_retries = 4\n'
        f'api_key_env = "ZWARM_TEST_KEY"\n{extra}')


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWARM_TEST_KEY", "test-key")


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ids = [SESSION_A, SESSION_B, SESSION_C]
    counter = itertools.count()
    monkeypatch.setattr(Store, "new_id", staticmethod(lambda: ids[next(counter)]))
    return ids


@pytest.fixture
def model_server() -> Iterator[Callable[[Any], ScriptedModelServer]]:
    servers: list[ScriptedModelServer] = []

    def start(scenario: Any) -> ScriptedModelServer:
        server = ScriptedModelServer(scenario).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def configure(service: SessionService, project: Path, provider: str,
              server: ScriptedModelServer, extra: str = "") -> None:
    """Point the running service's config at the scripted server."""
    write_config(project, provider, server, extra)
    service.config, warnings = load_config(project)
    assert warnings == []


def bodies(server: ScriptedModelServer, provider: str) -> list[dict[str, Any]]:
    return [r["body"] for r in server.model_requests(API[provider])]


def tool_outputs(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """call id → decoded tool output, from one recorded request of either API."""
    out: dict[str, dict[str, Any]] = {}
    for item in body.get("input") or []:
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            out[item["call_id"]] = json.loads(item["output"])
    for message in body.get("messages") or []:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if block.get("type") == "tool_result":
                out[block["tool_use_id"]] = json.loads(block["content"])
    return out


def user_texts(body: dict[str, Any]) -> list[str]:
    texts = []
    for item in body.get("input") or []:
        if item.get("role") == "user":
            texts.append(item["content"])
    for message in body.get("messages") or []:
        if message["role"] == "user":
            texts += [b["text"] for b in message["content"] if b.get("type") == "text"]
    return texts
