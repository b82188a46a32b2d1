"""Configuration from .zwarm files, initializationOptions and didChangeConfiguration."""

from __future__ import annotations

from lsprotocol import types as lsp

from tests.lsp_helpers import request

from .conftest import eventually


async def test_unknown_keys_are_warned_not_fatal(start_client, project):
    (project / ".zwarm" / "config.toml").write_text(
        '[daemon]\nallowed_dirs = ["sub"]\nbogus = 1\n\n[executor]\nweb_search = false\n')
    (project / ".zwarm" / "claude.toml").write_text('model = "opus"\nnonsense = true\n')
    (project / "sub").mkdir()
    client, _ = await start_client(options={"daemon": {"show_notifications": False},
                                            "mystery": 1})
    await eventually(lambda: len(client.messages) >= 3)
    warnings = " | ".join(m.message for m in client.messages)
    assert "daemon: unknown key 'bogus'" in warnings
    assert "claude: unknown key 'nonsense'" in warnings
    assert "unknown key 'mystery'" in warnings
    assert "executor" not in warnings  # zwarm 3.x sections are understood
    started = await request(client, "zwarm/delegate", {"task": "x", "adapter": "claude",
                                                        "workingDir": "sub"})
    assert started["model"] == "opus" and started["workingDir"] == str(project / "sub")


async def test_did_change_configuration_applies_without_restart(start_client, project):
    client, _ = await start_client()
    before = await request(client, "zwarm/delegate", {"task": "x"})
    assert before["model"] == "gpt-5.1-codex-mini"
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"zwarm": {"codex": {"model": "gpt-5.1-codex-max"}}}))
    after = await request(client, "zwarm/delegate", {"task": "y"})
    assert after["model"] == "gpt-5.1-codex-max"


async def test_settings_that_are_not_an_object_are_refused_with_a_warning(start_client):
    client, _ = await start_client({"codex": {"model": "gpt-5.1-codex-max"}})
    client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(
        settings={"zwarm": "codex.model=evil"}))
    await eventually(lambda: any("'zwarm' must be an object" in m.message
                                 for m in client.messages))
    kept = await request(client, "zwarm/delegate", {"task": "x"})
    assert kept["model"] == "gpt-5.1-codex-max"
