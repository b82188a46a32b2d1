"""Running sessions show through the standard `$/progress` (vim.lsp.status, LspProgress)."""

from __future__ import annotations

from tests.nvim.conftest import Nvim
from tests.nvim.test_trajectory import held_default_turn


def test_running_session_is_lsp_progress(nvim: Nvim) -> None:
    release = nvim.tmp / "release"
    nvim.scenario(held_default_turn(release))
    result = nvim.run("progress.lua", ZWARM_RELEASE=str(release))

    short = result["session"]["shortId"]
    assert f"zwarm codex {short}" in result["status"]
    events = result["events"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    begin = events[0]
    assert begin["title"] == f"zwarm codex {short}" and "show progress" in begin["message"]
    assert any("planning the change" in (e["message"] or "") for e in events
               if e["kind"] == "report")
    assert events[-1]["message"].startswith("completed")
