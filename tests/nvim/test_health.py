"""`:checkhealth zwarm` with the daemon present and with it missing."""

from __future__ import annotations

from tests.nvim.conftest import Nvim


def section(report: list[str], title: str) -> list[str]:
    """The lines of one `zwarm: <title>` section of the health report."""
    start = next(i for i, line in enumerate(report) if f"zwarm: {title}" in line)
    rest = report[start + 1:]
    end = next((i for i, line in enumerate(rest) if line.startswith("zwarm: ")), len(rest))
    return rest[:end]


def test_health_reports_ok(nvim: Nvim) -> None:
    result = nvim.run("health.lua", OPENAI_API_KEY="sk-test")
    report = result["report"]
    daemon = "\n".join(section(report, "daemon"))
    assert "OK found" in daemon and "zwarm-ls" in daemon
    assert "OK Python 3." in daemon
    assert "OK starts: zwarm-ls" in daemon
    assert "ERROR" not in "\n".join(report)
    agents = "\n".join(section(report, "agent CLIs"))
    assert "OK OpenAI Codex CLI:" in agents and "OK Claude Code CLI:" in agents
    assert "OK OPENAI_API_KEY is set" in agents
    assert "WARNING ANTHROPIC_API_KEY is not set" in agents
    neovim = "\n".join(section(report, "Neovim"))
    assert "OK Neovim 0." in neovim and "0.10 or newer" in neovim
    doctor = "\n".join(section(report, "zwarm-ls doctor"))  # git is the CLI's check
    assert "OK git: git version 2." in doctor


def test_health_reports_missing_daemon(nvim: Nvim) -> None:
    # The default command, `zwarm-ls`, on a PATH that does not have it.
    path = nvim.env["PATH"].replace(str(nvim.env["ZWARM_LS"]).rsplit("/", 1)[0], "/nonexistent")
    result = nvim.run("health.lua", PATH=path)
    daemon = "\n".join(section(result["report"], "daemon"))
    assert "ERROR daemon `zwarm-ls` not found" in daemon
    assert "pip install zwarm-ls" in daemon


def test_health_reports_daemon_that_does_not_start(nvim: Nvim) -> None:
    broken = nvim.tmp / "zwarm-ls-broken"
    broken.write_text("#!/bin/sh\necho 'cannot import zwarm_ls' >&2\nexit 1\n")
    broken.chmod(0o755)
    result = nvim.run("health.lua", ZWARM_HEALTH_CMD=str(broken))
    daemon = "\n".join(section(result["report"], "daemon"))
    assert "does not start" in daemon and "cannot import zwarm_ls" in daemon


def test_health_reports_git_too_old_for_change_sets(nvim: Nvim) -> None:
    old = nvim.tmp / "old-git"
    old.mkdir()
    (old / "git").write_text("#!/bin/sh\necho 'git version 2.25.1'\n")
    (old / "git").chmod(0o755)
    result = nvim.run("health.lua", PATH=f"{old}:{nvim.env['PATH']}")
    doctor = "\n".join(section(result["report"], "zwarm-ls doctor"))
    assert "ERROR git: git version 2.25.1" in doctor
    assert "is too old: change sets need git 2.32+" in doctor


def versioned_clis(folder) -> str:
    """codex and claude that answer --version (and nothing else)."""
    folder.mkdir()
    for name, said in (("codex", "codex-cli 0.169.0"), ("claude", "2.1.197 (Claude Code)")):
        (folder / name).write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "{said}"\n')
        (folder / name).chmod(0o755)
    return str(folder)


def test_health_shows_what_zwarm_ls_doctor_checked(nvim: Nvim) -> None:
    clis = versioned_clis(nvim.tmp / "versioned")
    result = nvim.run("health.lua", PATH=f"{clis}:{nvim.env['PATH']}")
    doctor = "\n".join(section(result["report"], "zwarm-ls doctor"))
    assert "OK git: git version 2." in doctor
    assert "OK codex: OpenAI Codex CLI: codex-cli 0.169.0" in doctor
    assert "OK claude: Claude Code CLI: 2.1.197 (Claude Code)" in doctor
    assert "OK config: the config of" in doctor
    assert "OK trust:" in doctor
    assert "ray" not in doctor  # the local executor: no cluster to check
    assert "ERROR" not in doctor and "WARNING" not in doctor


def test_health_shows_doctor_errors_with_their_hints(nvim: Nvim) -> None:
    # The user's own config asks for a Ray cluster nobody runs, and git is too old.
    user_config = nvim.tmp / "home" / ".config" / "zwarm-ls"
    user_config.mkdir(parents=True)
    (user_config / "config.toml").write_text(
        '[executor]\nkind = "ray"\naddress = "http://127.0.0.1:9"\n')
    old = nvim.tmp / "old-git-doctor"
    old.mkdir()
    (old / "git").write_text("#!/bin/sh\necho 'git version 2.25.1'\n")
    (old / "git").chmod(0o755)
    result = nvim.run("health.lua", PATH=f"{old}:{nvim.env['PATH']}")
    doctor = "\n".join(section(result["report"], "zwarm-ls doctor"))
    assert "ERROR ray cluster: the Ray cluster at http://127.0.0.1:9 cannot be reached" \
        in doctor
    assert "start it (`ray start --head`) or fix [executor] address" in doctor  # the hint
    assert "ERROR git: git version 2.25.1" in doctor and "too old" in doctor
    assert "OK config:" in doctor  # the other checks are still shown


def test_health_reports_a_doctor_that_gives_no_report(nvim: Nvim) -> None:
    broken = nvim.tmp / "zwarm-ls-silent"
    broken.write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nexit 1\n")
    broken.chmod(0o755)
    result = nvim.run("health.lua", ZWARM_HEALTH_CMD=str(broken))
    doctor = "\n".join(section(result["report"], "zwarm-ls doctor"))
    assert "ERROR" in doctor and "gave no report (exit 1)" in doctor
    assert "Traceback: boom" in doctor
