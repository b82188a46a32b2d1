"""`zwarm-ls doctor`: can sessions run here? Each check is ok, warn or error, with a hint.

    zwarm-ls doctor [--executor local|ray] [--address URL] [--timeout S] [--json]

It checks git (change sets need 2.32+), the agent CLIs on this machine, the project's
config and whether the folder is trusted, and — for the Ray executor — that the cluster
answers and that its workers have git, pydantic and the agent CLIs. The exit code is 1
when any check is an error. Editors render `--json` (`:checkhealth zwarm`); they decide
nothing themselves.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from . import trust
from .config import Config, ExecutorConfig, load_config
from .render import print_json

MIN_GIT = (2, 32)
VERSION_TIMEOUT_S = 15.0
AGENTS = {"codex": "OpenAI Codex CLI", "claude": "Claude Code CLI"}
Level = Literal["ok", "warn", "error"]
MARKS: dict[str, str] = {"ok": "ok", "warn": "WARN", "error": "ERROR"}


@dataclass
class Check:
    name: str
    status: Level
    message: str
    hint: str | None = None


# ----- this machine ----------------------------------------------------------------------


def version_of(binary: str) -> str | None:
    """The first line `binary --version` prints, or None when it cannot be run. Run in
    a scratch folder with no stdin: a CLI that misreads the flag must not wait or write."""
    with tempfile.TemporaryDirectory(prefix="zwarm-doctor-") as scratch:
        try:
            proc = subprocess.run([binary, "--version"], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, cwd=scratch,
                                  timeout=VERSION_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0].strip() if lines else ""


def git_version(text: str) -> tuple[int, int] | None:
    found = re.search(r"git version (\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def check_git() -> Check:
    path = shutil.which("git")
    hint = "install git 2.32 or newer: change sets are recorded and reviewed with it"
    if path is None:
        return Check("git", "error", "git not found on PATH", hint)
    said = version_of(path) or ""
    version = git_version(said)
    if version is None:
        return Check("git", "warn", f"cannot read git's version ({said or 'no output'})", hint)
    text = f"{said} ({path})"
    if version < MIN_GIT:
        return Check("git", "error", f"{text} is too old: change sets need git 2.32+", hint)
    return Check("git", "ok", text)


def check_agent(name: str, config: Config, remote: bool) -> Check:
    """The agent CLI as the daemon would start it ([codex]/[claude] binary, else PATH).
    Missing is an error only for the default adapter of local sessions: Ray sessions find
    the CLI on the workers, and the other adapter is needed only when asked for."""
    binary = config.adapter(name).binary or name
    path = shutil.which(binary)
    what = AGENTS[name]
    if path is None:
        needed = name == config.daemon.default_adapter and not remote
        where = "; Ray sessions use the workers' own" if remote else ""
        return Check(name, "error" if needed else "warn",
                     f"{what}: `{binary}` not found on PATH{where}",
                     f"install it, or set [{name}] binary in .zwarm/{name}.toml")
    version = version_of(path)
    if version is None:
        return Check(name, "error", f"{what}: {path} does not run",
                     f"run `{path} --version` in a terminal to see why")
    return Check(name, "ok", f"{what}: {version or 'no version printed'} ({path})")


def check_config(warnings: list[str], root: Path) -> Check:
    if not warnings:
        return Check("config", "ok", f"the config of {root} loads without warnings")
    listed = "; ".join(warnings)
    return Check("config", "warn", f"{len(warnings)} warning(s): {listed}",
                 "fix or remove the keys named (`zwarm-ls configs show` prints the result)")


def check_trust(root: Path, warnings: list[str]) -> Check:
    if trust.is_trusted(root):
        return Check("trust", "ok", f"{root} is trusted: its .zwarm/ settings apply in full")
    ignored = [w for w in warnings if "widens what agents may do" in w]
    if ignored:
        return Check("trust", "warn", f"{root} is not trusted: {len(ignored)} setting(s) "
                     "that widen what agents may do are ignored",
                     f"if you trust this repository: zwarm-ls trust {root}")
    return Check("trust", "ok", f"{root} is not trusted (nothing in it asks for more)")


# ----- the Ray cluster ---------------------------------------------------------------------


def check_cluster(executor: ExecutorConfig, default_adapter: str,
                  timeout_s: float) -> list[Check]:
    """The cluster answers, and a probe job placed like agent jobs (same resources and
    runtime_env) finds git, pydantic and the agent CLIs on its worker."""
    from .executors.ray import cluster_report, dashboard_url

    try:
        url = dashboard_url(executor.address)
    except ConnectionError as exc:
        return [Check("ray cluster", "error", str(exc), "set [executor] address")]
    report = cluster_report(url, executor.resources or None, executor.runtime_env or None,
                            timeout_s)
    if report.ray_version is None:
        return [Check("ray cluster", "error", "; ".join(report.problems),
                      "start it (`ray start --head`) or fix [executor] address / --address")]
    checks = [Check("ray cluster", "ok", f"{url} answers (Ray {report.ray_version})")]
    if report.problems:
        return [*checks, Check("ray workers", "error", "; ".join(report.problems),
                               "start a worker with the resources of [executor] resources")]
    for tool in ("git", "pydantic"):
        if tool in report.missing:
            checks.append(Check(f"worker {tool}", "error", f"the worker lacks {tool}",
                                f"install {tool} on the workers (or via [executor] runtime_env)"))
    for name, what in AGENTS.items():
        if name in report.found:
            checks.append(Check(f"worker {name}", "ok",
                                f"{what} on the worker: {report.found[name] or 'found'}"))
        else:
            level: Level = "error" if name == default_adapter else "warn"
            checks.append(Check(f"worker {name}", level,
                                f"{what}: `{name}` is not on the worker's PATH",
                                "install it on the workers, or put it on PATH through "
                                "[executor.runtime_env] env_vars"))
    return checks


# ----- the command -------------------------------------------------------------------------


def run_checks(root: Path, executor: str | None = None, address: str | None = None,
               timeout_s: float = 90.0) -> list[Check]:
    config, warnings = load_config(root)
    ray = executor == "ray" or (executor is None and
                                (address is not None or config.executor.kind == "ray"))
    checks = [check_git()]
    checks += [check_agent(name, config, ray) for name in AGENTS]
    checks += [check_config(warnings, root), check_trust(root, warnings)]
    if ray:
        settings = config.executor.model_copy(update={"address": address} if address else {})
        checks += check_cluster(settings, config.daemon.default_adapter, timeout_s)
    return checks


def format_checks(checks: list[Check]) -> list[str]:
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{MARKS[c.status]:<5}  {c.name:<{width}}  {c.message}")
        if c.hint and c.status != "ok":
            lines.append(f"{'':<5}  {'':<{width}}  hint: {c.hint}")
    return lines


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = run_checks(args.root, args.executor, args.address, args.timeout)
    failed = any(c.status == "error" for c in checks)
    if args.json:
        wire: dict[str, Any] = {"ok": not failed, "root": str(args.root),
                                "checks": [asdict(c) for c in checks]}
        print_json(wire)
    else:
        print("\n".join(format_checks(checks)))
        errors = sum(c.status == "error" for c in checks)
        warns = sum(c.status == "warn" for c in checks)
        print(f"\n{errors} error(s), {warns} warning(s)")
    return 1 if failed else 0


LOCAL: dict[str, Callable[[argparse.Namespace], int]] = {"doctor": cmd_doctor}


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("doctor", parents=[common],
                       help="check git, the agent CLIs, the config and the Ray cluster")
    p.add_argument("--executor", choices=["local", "ray"],
                   help="check for this executor (default: [executor] kind)")
    p.add_argument("--address", help="the Ray dashboard (Jobs API) address to check; "
                                     "implies --executor ray")
    p.add_argument("--timeout", type=float, default=90.0,
                   help="seconds to wait for a worker to take the probe job")
