"""The daemon's code actions reach Neovim's code action machinery and run."""

from __future__ import annotations

from tests.nvim.conftest import Nvim


def test_code_actions_offer_and_run_delegation(nvim: Nvim) -> None:
    result = nvim.run("code_actions.lua")

    on_selection = {a["title"]: a["command"] for a in result["on_selection"]}
    assert on_selection == {"Delegate this to Codex": "zwarm.delegate",
                            "Delegate this to Claude": "zwarm.delegate"}
    fixes = [a for a in result["on_diagnostic"] if a["title"].startswith("Ask an agent to fix")]
    assert len(fixes) == 1 and "unsupported operand" in fixes[0]["title"]
    assert fixes[0]["command"] == "zwarm.delegate"

    applied = result["applied"]
    assert applied["adapter"] == "claude"
    assert result["mark"]["row"] == 1
    (call,) = nvim.invocations()
    assert call["flavor"] == "claude" and "TODO: handle None" in call["prompt"]
