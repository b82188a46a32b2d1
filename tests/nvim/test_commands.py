"""The `:Zwarm` subcommands: completion from the daemon, picker, quickfix, peek, check,
converse, errors with hints, and orchestrate/pilot before the daemon has them."""

from __future__ import annotations

import shutil

from tests.nvim.conftest import REPO, Nvim

ZWARM39_STORE = REPO / "tests" / "test_data" / "zwarm39_store" / ".zwarm"


def test_subcommands_call_the_daemon_and_show_answers(nvim: Nvim) -> None:
    result = nvim.run("commands.lua")

    assert result["subcommands"] == ["accept", "blame", "changes", "check", "converse",
                                     "delegate", "diff", "end", "orchestrate", "peek", "pilot",
                                     "reject", "runs", "sessions", "trajectory", "trust"]
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
    assert result["usage"].startswith(
        "usage: :Zwarm {accept|blame|changes|check|converse|delegate|diff|end|")


def test_id_completion_asks_the_daemon(nvim: Nvim) -> None:
    shutil.copytree(ZWARM39_STORE, nvim.project / ".zwarm", dirs_exist_ok=True)
    result = nvim.run("complete_ids.lua")

    # Nothing was pushed about these old sessions: the ids came from zwarm/listSessions.
    assert result["updates_before"] == 0 and result["cached_before"] == 0
    assert sorted(result["all"]) == ["3f2a9c1e", "3f2b0000", "8e7d6c5b", "c0ffee00"]
    assert sorted(result["prefix"]) == ["3f2a9c1e", "3f2b0000"]
    assert result["unique"] == ["3f2a9c1e"]
    assert result["full"] == ["3f2a9c1e-7b4d-4e8a-9f10-2b3c4d5e6f70"]
    assert result["second_word"] == []
