"""Trust bookkeeping (DESIGN.md §9) without a daemon: the trusted-folders file survives any
folder name, trust covers a folder and what is below it only, and narrowing compares a
mode with the user's own choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwarm_ls import trust


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-config"
    monkeypatch.setenv(trust.ENV_DIR, str(folder))
    return folder


@pytest.mark.parametrize("name", ['quo"te', "new\nline", "back\\slash", "tab\there",
                                  "del\x7fete", "ünï😀", "]\nfolders = ['/']"])
def test_any_folder_name_is_trusted_and_nothing_else(config_dir: Path, tmp_path: Path,
                                                     name: str) -> None:
    other = tmp_path / "plain"
    other.mkdir()
    trust.trust(other)
    odd = tmp_path / name
    odd.mkdir(parents=True)
    trust.trust(odd)
    assert trust.is_trusted(odd) and trust.is_trusted(other)
    assert not trust.is_trusted(tmp_path) and not trust.is_trusted(Path("/"))


def test_trust_covers_below_not_beside(config_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "proj" / "sub").mkdir(parents=True)
    (tmp_path / "project2").mkdir()
    trust.trust(tmp_path / "proj")
    assert trust.is_trusted(tmp_path / "proj" / "sub")
    assert not trust.is_trusted(tmp_path / "project2")


def test_a_mode_wider_than_the_users_is_dropped() -> None:
    user = {"codex": {"sandbox": "read-only"}, "claude": {"permission_mode": "acceptEdits"}}
    project = {"codex": {"sandbox": "workspace-write"},
               "claude": {"permission_mode": "plan"}, "executor": {"kind": "local"}}
    kept, dropped = trust.narrow(project, "repo", user)
    assert kept == {"codex": {}, "claude": {"permission_mode": "plan"},
                    "executor": {"kind": "local"}}
    assert len(dropped) == 1 and "codex.sandbox" in dropped[0]
    _, dropped = trust.narrow({"executor": {"kind": "ray"}}, "repo", {})
    assert "executor.kind" in dropped[0]
