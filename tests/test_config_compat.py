"""--config, --set and .env through the real CLI (subprocesses), and their parsing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zwarm_ls import config, trust
from zwarm_ls.errors import InvalidParams


def run(project: Path, *args: str, check: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project)],
                          capture_output=True, text=True, check=check, timeout=60,
                          env=env or dict(os.environ))


@pytest.mark.parametrize("text,value", [
    ("7", 7), ("0.5", 0.5), ("true", True), ("False", False), ("gpt-5.2-codex", "gpt-5.2-codex"),
    ('["a", "b"]', ["a", "b"]), ('"007"', "007"), ("[not toml", "[not toml"), ("", ""),
])
def test_set_values_are_typed_as_zwarm_typed_them(text: str, value: object) -> None:
    assert config.parse_value(text) == value
    assert type(config.parse_value(text)) is type(value)


def test_a_set_key_is_dotted_and_must_have_a_value() -> None:
    assert config.parse_set("orchestrator.compaction.keep_last_n=3") == \
        {"orchestrator": {"compaction": {"keep_last_n": 3}}}
    assert config.parse_set("a=b=c") == {"a": "b=c"}
    # A setting that only takes text keeps it: a model named 5.2 is not a number.
    assert config.parse_set("executor.model=5.2") == {"executor": {"model": "5.2"}}
    assert config.parse_set("codex.model=5.10") == {"codex": {"model": "5.10"}}
    assert config.parse_set("codex.sandbox=read-only") == {"codex": {"sandbox": "read-only"}}
    assert config.parse_set("orchestrator.max_retries=3") == {"orchestrator": {"max_retries": 3}}
    for bad in ("orchestrator.max_steps", "=3", "a..b=1", "a b=1"):
        with pytest.raises(InvalidParams):
            config.parse_set(bad)


def test_dotenv_lines(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('# a comment\n\nexport A=1\nB = "two # words"\nC=\'single\\n\'  \n'
                    'D=bare # comment\nE="line\\nbreak \\"quoted\\""\nnot a pair\n')
    warnings: list[str] = []
    assert config.read_dotenv(path, warnings) == {
        "A": "1", "B": "two # words", "C": "single\\n", "D": "bare",
        "E": 'line\nbreak "quoted"'}
    assert warnings == [f"{path}:8: not KEY=VALUE; line ignored"]


def test_config_file_and_set_win_over_the_files_with_their_source(project, tmp_path):
    (project / ".zwarm" / "config.toml").write_text(
        "[orchestrator]\nmax_steps = 5\nmax_retries = 2\n[daemon]\nshow_notifications = true\n")
    base = tmp_path / "base.yaml"
    base.write_text("orchestrator:\n  max_steps: 11\n  bash_timeout_s: 9\n"
                    "description: a zwarm.yaml key\n")
    extra = tmp_path / "extra.yaml"
    extra.write_text("extends: base.yaml\norchestrator:\n  max_steps: 22\n"
                     "executor:\n  model: opus\n")
    shown = json.loads(run(project, "configs", "show", "--json", "--config", str(extra),
                           "--set", "orchestrator.max_steps=33", "--set",
                           "daemon.show_notifications=false", "--set",
                           "orchestrator.retry_backoff_s=0.25").stdout)
    values, sources = shown["config"], shown["sources"]
    assert values["orchestrator.max_steps"] == 33 and sources["orchestrator.max_steps"] == "--set"
    assert values["daemon.show_notifications"] is False
    assert values["orchestrator.retry_backoff_s"] == 0.25
    label = f"--config {extra}"
    assert values["orchestrator.bash_timeout_s"] == 9  # from the file it extends
    assert sources["orchestrator.bash_timeout_s"] == label
    assert values["project.description"] == "a zwarm.yaml key"
    assert values["claude.model"] == "opus"
    assert sources["claude.model"] == f"{label} [executor] model (zwarm 3.x)"
    assert values["orchestrator.max_retries"] == 2
    assert sources["orchestrator.max_retries"] == str(project / ".zwarm" / "config.toml")
    assert sources["orchestrator.max_context_chars"] == "default"
    text = run(project, "configs", "show", "--set", "orchestrator.max_steps=44").stdout
    assert "= 44    # --set" in text


def test_set_reaches_a_session_command(project, fake_clis):
    started = json.loads(run(project, "delegate", "hi", "--json",
                             "--set", "executor.model=5.2").stdout)
    assert (started["adapter"], started["model"]) == ("codex", "gpt-5.2-codex")


def test_bad_config_and_set_are_clear_errors(project, tmp_path):
    bad_set = run(project, "configs", "show", "--set", "orchestrator.max_steps", check=False)
    assert bad_set.returncode == 2 and "is not KEY=VALUE" in bad_set.stderr
    assert "Traceback" not in bad_set.stderr
    missing = run(project, "ls", "--config", str(tmp_path / "nope.toml"), check=False)
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\n")
    cycle = run(project, "configs", "show", "--json", "--config", str(loop), check=False)
    assert cycle.returncode == 2 and "extends" in json.loads(cycle.stdout)["error"]["message"]
    served = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "serve", "--set", "x"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert served.returncode == 2 and "is not KEY=VALUE" in served.stderr


def test_dotenv_reaches_the_agent_never_overrides_and_is_never_logged(project, fake_clis,
                                                                      scenario, tmp_path):
    secret = "sk-from-dotenv-5f3a"
    (project / ".env").write_text(f'ZW_TEST_SECRET="{secret}"\nZW_TEST_KEPT=from-file\n'
                                  "OPENAI_API_KEY=sk-orchestrator\n")
    seen = tmp_path / "seen.json"
    # The agent's own view of its environment, written by a process it starts.
    probe = ("import json, os, sys; json.dump({k: os.environ.get(k) for k in "
             "('ZW_TEST_SECRET', 'ZW_TEST_KEPT')}, open(sys.argv[1], 'w'))")
    scenario([{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
              {"detach": [sys.executable, "-c", probe, str(seen)],
               "pid_file": str(tmp_path / "probe.pid")},
              {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1,
                                                             "output_tokens": 1}}}])
    env = {k: v for k, v in os.environ.items() if k not in ("ZW_TEST_SECRET", "OPENAI_API_KEY")}
    env["ZW_TEST_KEPT"] = "from-environment"
    log_file = tmp_path / "cli.log"
    done = run(project, "delegate", "probe", "--wait", "--json", "--log-level", "DEBUG",
               "--log-file", str(log_file), env=env)
    assert json.loads(done.stdout)["status"] == "completed"
    deadline = time.monotonic() + 10
    while not (seen.exists() and seen.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert json.loads(seen.read_text()) == {"ZW_TEST_SECRET": secret,
                                            "ZW_TEST_KEPT": "from-environment"}
    shown = run(project, "configs", "show", "--json", "--log-level", "DEBUG", "--log-file",
                str(log_file), env=env)
    out = json.loads(shown.stdout)
    assert out["sources"]["env.ZW_TEST_SECRET"] == str(project / ".env")
    assert out["sources"]["env.OPENAI_API_KEY"] == str(project / ".env")
    assert out["config"]["env.ZW_TEST_SECRET"] == "(set)"
    assert "env.ZW_TEST_KEPT" not in out["sources"]  # the environment's value won
    for text in (done.stdout, done.stderr, shown.stdout, shown.stderr, log_file.read_text()):
        assert secret not in text and "sk-orchestrator" not in text


def test_the_editors_settings_are_the_client_source(project: Path) -> None:
    (project / ".zwarm" / "config.toml").write_text("[orchestrator]\nmax_steps = 5\n")
    values, sources, _ = config.config_sources(
        project, {"orchestrator": {"max_steps": 3}, "trustedFolder": True})
    assert values["orchestrator.max_steps"] == 3 and sources["orchestrator.max_steps"] == "client"


def test_an_untrusted_zwarm_project_cannot_widen_through_its_old_keys(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(trust.ENV_DIR, str(tmp_path / "nobody-trusts"))
    (project / ".zwarm" / "config.toml").write_text(
        '[orchestrator]\nallowed_dirs = ["*"]\n[executor]\nsandbox = "danger-full-access"\n'
        'model = "opus"\n')
    loaded, warnings = config.load_config(project)
    assert loaded.daemon.allowed_dirs is None and loaded.codex.sandbox == "workspace-write"
    assert loaded.claude.model == "opus"  # a model only narrows
    text = "\n".join(warnings)
    assert "ignored daemon.allowed_dirs" in text and \
        "(written as zwarm's [orchestrator] allowed_dirs)" in text
    assert "(written as zwarm's [executor] sandbox)" in text


def test_a_zwarm_key_and_its_zwarm_ls_name_in_one_file(project: Path) -> None:
    (project / ".zwarm" / "config.toml").write_text(
        '[daemon]\nallowed_dirs = ["a"]\n[orchestrator]\nallowed_dirs = ["b"]\nlm = "gpt-5"\n')
    loaded, warnings = config.load_config(project)
    assert loaded.daemon.allowed_dirs == ["a"] and loaded.orchestrator.model == "gpt-5"
    assert any("[orchestrator] allowed_dirs (zwarm 3.x) ignored: daemon.allowed_dirs is set "
               "too, and wins" in w for w in warnings)


def test_zwarm_yaml_watchers_are_reported_and_work_with_config(project: Path) -> None:
    (project / "zwarm.yaml").write_text("description: a shop\nwatchers: [progress]\n")
    loaded, warnings = config.load_config(project)
    assert loaded.project.description == "a shop"
    assert any("'watchers' is not read here" in w for w in warnings)
    config.use_command_line(project / "zwarm.yaml", [])
    try:
        given, _ = config.load_config(project)
    finally:
        config.use_command_line(None, [])
    assert [w.name for w in given.watchers.watchers] == ["progress"]


def test_an_untrusted_folders_dotenv_is_not_loaded(project: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(trust.ENV_DIR, str(tmp_path / "nobody-trusts"))
    monkeypatch.delenv("ZW_TEST_BASE_URL", raising=False)
    (project / ".env").write_text("ZW_TEST_BASE_URL=http://attacker.invalid\n")
    _, warnings = config.load_config(project)
    assert "ZW_TEST_BASE_URL" not in os.environ
    assert any(".env: not loaded, the folder is not trusted" in w for w in warnings)
    _, warnings = config.load_config(project, {"trustedFolder": True})
    assert os.environ.pop("ZW_TEST_BASE_URL") == "http://attacker.invalid"
