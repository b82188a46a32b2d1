"""The LLM client layer against the scripted model server: both APIs, streaming and not,
retries on 429/5xx/broken streams, errors that are not retried, usage per call."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.orchestrator.conftest import PROVIDERS, bodies, call, calls, configure
from zwarm_ls.config import OrchestratorConfig
from zwarm_ls.orchestrator import Orchestrator
from zwarm_ls.orchestrator.history import Item, ToolCall, ToolOutput, user
from zwarm_ls.orchestrator.llm import LLMError, ToolSchema
from zwarm_ls.orchestrator.providers import make_client
from zwarm_ls.service import SessionService

TOOL = ToolSchema(name="exit", description="finish",
                  parameters={"type": "object", "properties": {"message": {"type": "string"}},
                              "required": []})


def client_for(provider: str, server, stream: bool = True, retries: int = 4):
    base_url = server.openai_base_url if provider == "openai" else server.url
    cfg = OrchestratorConfig(provider=provider, model="scripted-model", base_url=base_url,
                             api_key_env="ZWARM_TEST_KEY", retry_backoff_s=0.01,
                             max_retries=retries, stream=stream)
    return make_client(cfg)


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_text_tool_calls_and_usage(provider: str, stream: bool, model_server) -> None:
    server = model_server([{**calls(call("exit", "c1", message="bye"), text="Finishing."),
                            "usage": {"input_tokens": 70, "output_tokens": 9,
                                      "cached_input_tokens": 30}}])
    client = client_for(provider, server, stream)
    deltas: list[str] = []
    history = [user("task"), Item(role="assistant", tool_calls=[
        ToolCall(call_id="p1", name="exit", arguments="{}")]),
        Item(role="tool", results=[ToolOutput(call_id="p1", name="exit", output="{}")])]
    completion = await client.complete("system text", history, [TOOL], deltas.append)
    assert completion.text == "Finishing."
    assert completion.tool_calls == [ToolCall(call_id="c1", name="exit",
                                              arguments='{"message": "bye"}')]
    assert completion.usage.input_tokens == 70 and completion.usage.output_tokens == 9
    assert completion.usage.cached_input_tokens == 30
    if stream:
        assert "".join(deltas) == "Finishing."
    body = bodies(server, provider)[0]
    assert body["model"] == "scripted-model" and body.get("stream", False) == stream
    if provider == "openai":
        assert body["instructions"] == "system text"
        assert body["tools"][0] == {"type": "function", **TOOL.model_dump()}
        assert [i.get("type", "message") for i in body["input"]] == [
            "message", "function_call", "function_call_output"]
    else:
        assert body["system"] == "system text"
        assert body["tools"][0]["input_schema"] == TOOL.parameters
        assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_retries_429_500_and_a_broken_stream_then_succeeds(
        provider: str, service: SessionService, project: Path, model_server) -> None:
    server = model_server([{"http_error": 429}, {"http_error": 500}, {"broken_stream": True},
                           {"http_error": 503, "retry_after": 0},
                           calls(call("exit", message="made it"))])
    configure(service, project, provider, server)
    steps = []
    result = await Orchestrator(service, "t", on_steps=steps.extend).run()
    assert result.status == "exited" and result.message == "made it"
    assert len(bodies(server, provider)) == 5
    assert any(s.kind == "usage" and "after 5 attempts" in s.summary for s in steps)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_gives_up_after_max_retries(provider: str, model_server) -> None:
    server = model_server([{"http_error": 500, "times": 10}])
    client = client_for(provider, server, retries=2)
    with pytest.raises(LLMError) as caught:
        await client.complete("s", [user("t")], [TOOL])
    assert "500" in caught.value.message and "(3 attempts)" in caught.value.message
    assert len(bodies(server, provider)) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_client_errors_are_not_retried(provider: str, service: SessionService,
                                             project: Path, model_server) -> None:
    server = model_server([{"http_error": 401, "message": "bad key"}])
    configure(service, project, provider, server)
    result = await Orchestrator(service, "t").run()
    assert result.status == "failed"
    assert "401" in (result.message or "") and "API key" in (result.message or "")
    assert len(bodies(server, provider)) == 1
