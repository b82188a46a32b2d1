"""A zwarm 3.9 project's config over the real daemon: every key of its config.toml is
applied or reported at start with a reason; `serve --set` applies; `zwarm/delegate`
picks the adapter from the model."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp_helpers import SERVER, request

from .conftest import CAPABILITIES, eventually

# Every key zwarm 3.9 reads from config.toml (research/zwarm-inventory.md §4.2), with
# values other than its defaults wherever that shows whether the key took effect.
ZWARM_39_CONFIG = """\
state_dir = "zwarm-state"

[weave]
project = "me/my-project"
enabled = true

[executor]
adapter = "codex_mcp"
model = "codex-max"
sandbox = "read-only"
timeout = 1800
reasoning_effort = "medium"
web_search = true

[orchestrator]
lm = "gpt-5"
prompt = "prompts/orchestrator.md"
tools = ["delegate", "converse", "check_session"]
max_steps = 33
max_steps_per_turn = 12
parallel_delegations = 2
allowed_dirs = ["../shared"]

[orchestrator.compaction]
enabled = true
max_tokens = 90000
threshold_pct = 0.8
target_pct = 0.6
keep_first_n = 3
keep_last_n = 8

[orchestrator.tc_compression]
enabled = true
compressor = "naive_size"
max_chars = 12000

[watchers]
enabled = true
message_role = "system"

[[watchers.watchers]]
name = "progress"
enabled = true

[[watchers.watchers]]
name = "budget"
enabled = false
[watchers.watchers.config]
max_sessions = 3

[pilot]
model = "gpt5"
"""

# Keys with no effect here: each must be reported, with words of its reason.
REPORTED = {
    "state_dir": "always lives in the project's .zwarm/",
    "weave": "no Weave tracing",
    "executor.timeout": "no time limit",
    "executor.reasoning_effort": "model_reasoning_effort in .zwarm/codex.toml",
    "executor.web_search": "web_search_request",
    "orchestrator.prompt": "built in",
    "orchestrator.tools": "tools are fixed",
    "orchestrator.parallel_delegations": "max_concurrent",
    "orchestrator.compaction": "max_context_chars",
    "pilot": "the pilot uses [orchestrator]",
}


def write_zwarm_project(project: Path) -> None:
    (project / ".zwarm" / "config.toml").write_text(ZWARM_39_CONFIG)
    (project.parent / "shared").mkdir()
    (project.parent / "elsewhere").mkdir()


async def test_every_zwarm_39_key_is_applied_or_reported(start_client, project, fake_clis):
    write_zwarm_project(project)
    client, _ = await start_client()
    await eventually(lambda: any("pilot" in m.message for m in client.messages))
    warnings = "\n".join(m.message for m in client.messages)
    for key, reason in REPORTED.items():
        line = next((w for w in warnings.splitlines() if f" {key} (zwarm 3.x)" in w), "")
        assert reason in line, f"{key} is not reported with its reason:\n{warnings}"
    assert "unknown" not in warnings  # nothing is dropped without a reason
    # [orchestrator] allowed_dirs: delegates may work there, and still not elsewhere.
    shared = await request(client, "zwarm/delegate", {"task": "x", "workingDir": "../shared"})
    assert shared["workingDir"] == str(project.parent / "shared")
    refused = await error_of(client, {"task": "x", "workingDir": "../elsewhere"})
    assert "outside the allowed directories" in refused.message
    # [executor] adapter codex_mcp is codex; model (an alias) and sandbox reach the CLI.
    started = await request(client, "zwarm/delegate", {"task": "y"})
    assert (started["adapter"], started["model"]) == ("codex", "gpt-5.1-codex-max")
    await eventually(lambda: len(fake_clis.read_text().splitlines()) >= 2
                     if fake_clis.exists() else False)
    argv = json.loads(fake_clis.read_text().splitlines()[-1])["argv"]
    assert argv[argv.index("--sandbox") + 1] == "read-only"
    assert argv[argv.index("--model") + 1] == "gpt-5.1-codex-max"


async def error_of(client: LanguageClient, params: dict) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as exc:
        await request(client, "zwarm/delegate", params)
    return exc.value


async def start_with_args(project: Path, *args: str) -> LanguageClient:
    config = ClientServerConfig(server_command=[*SERVER, *args], server_env=dict(os.environ))
    client = await config.start()
    await client.initialize_session(lsp.InitializeParams(capabilities=CAPABILITIES,
                                                         root_uri=project.as_uri()))
    return client


async def test_serve_applies_set_over_the_files(project, fake_clis):
    (project / ".zwarm" / "codex.toml").write_text('model = "gpt-5.1-codex-max"\n')
    client = await start_with_args(project, "--set", "codex.model=gpt-5.2-codex",
                                   "--set", "daemon.default_adapter=claude")
    try:
        codex = await request(client, "zwarm/delegate", {"task": "x", "adapter": "codex"})
        assert codex["model"] == "gpt-5.2-codex"
        default = await request(client, "zwarm/delegate", {"task": "y"})
        assert default["adapter"] == "claude"
    finally:
        await client.shutdown_session()


async def test_delegate_detects_the_adapter_from_the_model(start_client):
    client, _ = await start_client()
    opus = await request(client, "zwarm/delegate", {"task": "x", "model": "opus"})
    assert (opus["adapter"], opus["model"]) == ("claude", "opus")
    codex = await request(client, "zwarm/delegate", {"task": "x", "model": "5.2"})
    assert (codex["adapter"], codex["model"]) == ("codex", "gpt-5.2-codex")
    dated = await request(client, "zwarm/delegate",
                          {"task": "x", "model": "claude-sonnet-4-5-20250929"})
    assert dated["adapter"] == "claude" and dated["model"] == "claude-sonnet-4-5-20250929"
    unknown = await error_of(client, {"task": "x", "model": "sonet"})
    assert unknown.code == -32602 and "unknown model 'sonet'; did you mean sonnet" in \
        unknown.message
    other = await error_of(client, {"task": "x", "model": "sonnet", "adapter": "codex"})
    assert other.code == -32602 and "model 'sonnet' runs on claude, not codex" in other.message


async def test_the_daemon_loads_the_projects_dotenv_for_its_agents(start_client, project,
                                                                    scenario, tmp_path):
    (project / ".env").write_text('ZW_LSP_DOTENV="from the project"\n')
    seen = tmp_path / "seen.txt"
    probe = "import os, sys; open(sys.argv[1], 'w').write(os.environ['ZW_LSP_DOTENV'])"
    scenario([{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
              {"detach": [sys.executable, "-c", probe, str(seen)],
               "pid_file": str(tmp_path / "probe.pid")}])
    os.environ.pop("ZW_LSP_DOTENV", None)
    client, _ = await start_client()
    await request(client, "zwarm/delegate", {"task": "probe"})
    await eventually(lambda: seen.exists() and seen.read_text() == "from the project")
    assert all("from the project" not in m.message for m in client.messages)


# What `zwarm init` 3.9 wrote next to config.toml (research/zwarm-inventory.md §4.3, §4.4).
ZWARM_39_CODEX = """\
model = "gpt-5.1-codex-mini"
model_reasoning_effort = "high"
full_danger = true

[features]
web_search_request = true

[sandbox_workspace_write]
network_access = true
"""
ZWARM_39_CLAUDE = 'model = "sonnet"\nfull_danger = true\n'


async def test_zwarm_39_codex_and_claude_files_reach_the_clis(start_client, project,
                                                               fake_clis):
    (project / ".zwarm" / "codex.toml").write_text(ZWARM_39_CODEX)
    (project / ".zwarm" / "claude.toml").write_text(ZWARM_39_CLAUDE)
    client, _ = await start_client()  # the test folder is trusted: full_danger counts
    await request(client, "zwarm/delegate", {"task": "x", "adapter": "codex"})
    await request(client, "zwarm/delegate", {"task": "y", "adapter": "claude"})
    await eventually(lambda: fake_clis.exists() and len(fake_clis.read_text().splitlines()) >= 2)
    argv = {i["flavor"]: i["argv"] for i in map(json.loads, fake_clis.read_text().splitlines())}
    codex = argv["codex"]
    overrides = {codex[i + 1] for i, a in enumerate(codex) if a == "-c"}
    assert overrides == {'model_reasoning_effort="high"', "features.web_search_request=true",
                         "sandbox_workspace_write.network_access=true"}
    assert "--dangerously-bypass-approvals-and-sandbox" in codex
    assert codex[codex.index("--model") + 1] == "gpt-5.1-codex-mini"
    assert "--dangerously-skip-permissions" in argv["claude"] and "sonnet" in argv["claude"]
    # Nothing in them is unknown or dropped: the only messages are about sessions.
    assert [m.message for m in client.messages if "session" not in m.message] == []
