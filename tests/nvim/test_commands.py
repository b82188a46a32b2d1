"""The `:Zwarm` subcommands: completion from the daemon, picker, quickfix, peek, check,
converse, errors with hints, and orchestrate/pilot before the daemon has them."""

from __future__ import annotations

from tests.nvim.conftest import Nvim


def test_subcommands_call_the_daemon_and_show_answers(nvim: Nvim) -> None:
    result = nvim.run("commands.lua")

    assert result["subcommands"] == ["check", "converse", "delegate", "end", "orchestrate",
                                     "peek", "pilot", "sessions", "trajectory"]
    assert result["adapters"] == ["@codex", "@claude"]
    session = result["session"]
    short = session["shortId"]
    assert result["ids"] == [short] and result["ids_by_prefix"] == [short]

    assert len(result["offered"]) == 1 and result["offered"][0].startswith(short)
    qf = result["qf"]
    assert qf["title"] == "zwarm sessions" and qf["text"].startswith(short)
    assert qf["file"].endswith("/app.py") and qf["lnum"] == 3

    assert result["peek"].startswith(f"{short} completed: done: ")
    check = "\n".join(result["check"])
    assert check.startswith(f"# claude {short}: completed")
    assert "## Last response" in check and "done: " in check
    assert "zzzzzzzz" in result["unknown"] and "(" in result["unknown"], "hint missing"
    assert result["converse"].startswith(f"{short}: turn 2")

    orchestrator = result["orchestrator"]
    assert orchestrator[0].startswith("# orchestrator ")
    assert "- **task**: build the thing" in orchestrator
    assert "OPENAI_API_KEY" in result["pilot"]
    assert result["pilot_buffer"][:3] == ["## You", "", "hello"]
    assert result["missing"] == ("zwarm/notThere is not available in this zwarm-ls yet; "
                                 "update the daemon")
    assert result["usage"].startswith("usage: :Zwarm {check|converse|delegate|end|")
