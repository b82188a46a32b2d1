"""setup(): options merged over the defaults, autocmds in one group it can recreate."""

from __future__ import annotations

from tests.nvim.conftest import Nvim


def test_setup_again_starts_from_the_defaults(nvim: Nvim) -> None:
    result = nvim.run("setup.lua")

    assert result["command"] is True  # plugin/zwarm.lua defines :Zwarm on load
    assert result["first_position"] == "above" and result["kept_default"] == 100
    assert result["second_position"] == "eol" and result["second_open"] == "vsplit"
    first, second = result["first"], result["second"]
    assert "User ZwarmSessionUpdated" in first and "BufReadPost" in first
    # The second setup() replaced the group: no duplicates, and without autostart
    # nothing attaches buffers any more.
    assert second == [a for a in first if a not in ("BufReadPost", "BufNewFile")]
    assert len(second) == len(set(second))
    assert result["highlight"] == "DiagnosticInfo"
