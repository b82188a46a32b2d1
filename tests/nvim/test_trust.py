"""`:Zwarm trust`: the project is trusted by Neovim (vim.secure) and by the daemon."""

from __future__ import annotations

import os
from pathlib import Path

from tests.nvim.conftest import Nvim
from zwarm_ls import trust


def test_zwarm_trust_records_the_project_for_both(nvim: Nvim, tmp_path: Path,
                                                  monkeypatch) -> None:
    fresh = tmp_path / "untrusting-user-config"
    monkeypatch.setenv(trust.ENV_DIR, str(fresh))
    nvim.env[trust.ENV_DIR] = str(fresh)
    (nvim.project / ".zwarm" / "codex.toml").write_text('extra_args = ["--search"]\n')
    assert not trust.is_trusted(nvim.project)

    result = nvim.run("trust.lua")
    assert result["offer"].endswith("— in Neovim: :Zwarm trust (:help :Zwarm-trust)")
    assert result["offer"].startswith(f"zwarm: {nvim.project / '.zwarm'}: ignored")
    assert result["cmd"][-3:] == ["trust", "--root", str(nvim.project)]
    assert result["secure"] == 'extra_args = ["--search"]\n'
    assert trust.is_trusted(nvim.project)
    assert any("trusted" in n for n in result.notifications())
    assert os.stat(fresh / "trusted.toml").st_mode & 0o777 == 0o600
    # The running daemon took the project's setting from then on, not before.
    before, after = nvim.invocations()
    assert "--search" not in before["argv"] and "--search" in after["argv"]
