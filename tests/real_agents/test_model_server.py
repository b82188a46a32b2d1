"""The scripted model server itself, through the official SDKs (no agent CLI needed)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import anthropic
import openai
import pytest

from tests.fakes.model_server import EXHAUSTED_TEXT, ScriptedModelServer

REPO = Path(__file__).resolve().parents[2]


def test_responses_api_stream_and_json() -> None:
    scenario = {"responses": [
        {"text": "hello there", "usage": {"input_tokens": 7, "output_tokens": 3}},
        {"tool_calls": [{"name": "exec_command", "arguments": {"cmd": "ls"}},
                        {"name": "exec_command", "arguments": {"cmd": "pwd"}}]},
        {"text": "not streamed"},
        {"http_error": 500, "message": "scripted boom"},
        {"broken_stream": True},
    ]}
    with ScriptedModelServer(scenario) as srv:
        client = openai.OpenAI(base_url=srv.openai_base_url, api_key="dummy", max_retries=0)
        with client.responses.stream(
            model="m", input=[{"role": "system", "content": "be brief"},
                              {"role": "user", "content": "hi"}],
            extra_body={"unknown_field": {"nested": True}},
        ) as stream:
            final = stream.get_final_response()
        assert final.output_text == "hello there"
        assert final.usage.input_tokens == 7 and final.usage.output_tokens == 3

        events = list(client.responses.create(model="m", input="x", stream=True))
        calls = events[-1].response.output
        assert [c.type for c in calls] == ["function_call", "function_call"]
        assert [json.loads(c.arguments)["cmd"] for c in calls] == ["ls", "pwd"]
        assert calls[0].call_id != calls[1].call_id

        assert client.responses.create(model="m", input="x").output_text == "not streamed"
        with pytest.raises(openai.InternalServerError, match="scripted boom"):
            client.responses.create(model="m", input="x")
        with pytest.raises(openai.APIConnectionError):
            list(client.responses.create(model="m", input="x", stream=True))
        assert client.responses.create(model="m", input="x").output_text == EXHAUSTED_TEXT

        posts = srv.model_requests("responses")
        assert len(posts) == 6
        assert posts[0]["body"]["unknown_field"] == {"nested": True}
        assert posts[0]["headers"]["authorization"] == "Bearer dummy"


def test_messages_api_stream_json_and_head() -> None:
    scenario = {"messages": [
        {"text": "hi"},
        {"text": "running it", "tool_calls": [{"name": "Bash", "arguments": {"command": "ls"}}]},
        {"text": "plain"},
        {"http_error": 529, "message": "overloaded"},
        {"broken_stream": True},
    ]}
    with ScriptedModelServer(scenario) as srv:
        req = urllib.request.Request(srv.url + "/", method="HEAD")
        assert urllib.request.urlopen(req, timeout=10).status == 200
        client = anthropic.Anthropic(base_url=srv.url, api_key="dummy", max_retries=0)
        messages = [{"role": "user", "content": "hi"}]
        with client.messages.stream(model="m", max_tokens=50, messages=messages,
                                    system="s") as stream:
            assert stream.get_final_message().content[0].text == "hi"
        with client.messages.stream(model="m", max_tokens=50, messages=messages) as stream:
            message = stream.get_final_message()
        assert [b.type for b in message.content] == ["text", "tool_use"]
        assert message.content[1].input == {"command": "ls"}
        assert message.stop_reason == "tool_use"
        plain = client.messages.create(model="m", max_tokens=50, messages=messages)
        assert plain.content[0].text == "plain"
        with pytest.raises(anthropic.APIStatusError) as err:
            client.messages.create(model="m", max_tokens=50, messages=messages)
        assert err.value.status_code == 529
        with pytest.raises((anthropic.APIError, Exception)), client.messages.stream(
                model="m", max_tokens=50, messages=messages) as stream:
            stream.get_final_message()
        assert [r["api"] for r in srv.requests].count("messages") == 5
        assert srv.requests[0]["method"] == "HEAD"


def test_process_mode_prints_port_and_logs(tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"responses": [{"text": "from a process"}]}))
    log = tmp_path / "req.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.model_server", "--port", "0",
         "--scenario", str(scenario), "--log", str(log)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(proc.stdout.readline())
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k",
                               max_retries=0)
        assert client.responses.create(model="m", input="x").output_text == "from a process"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[0]["path"] == "/v1/responses" and records[0]["body"]["model"] == "m"
