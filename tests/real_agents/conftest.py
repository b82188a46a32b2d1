"""Harness for driving the real Codex and Claude Code CLIs through the daemon.

Each test gets: a scripted model server on 127.0.0.1 (in this process, in a thread), a
throwaway project whose `.zwarm/codex.toml` / `.zwarm/claude.toml` point the CLIs at it
(ordinary user config, nothing test-only in the daemon), a private HOME and CODEX_HOME,
and a daemon (`zwarm-ls serve`) spoken to over stdio by pytest-lsp's client.

The CLIs come from `.ci-cache/agents` (installed by .ci/install-agents.sh) or PATH. If one
is missing the test fails when env CI is set, and is skipped otherwise.

CI runs this inside `unshare -n` (only loopback exists). The configs below also switch
off every non-essential network call (Codex analytics and plugins; Claude telemetry,
error reporting, auto-update and other non-essential traffic).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.fakes.model_server import ScriptedModelServer
from tests.lsp_helpers import SERVER, plain
from tests.requirements import missing

REPO = Path(__file__).resolve().parents[2]
AGENT_BIN = REPO / ".ci-cache" / "agents" / "node_modules" / ".bin"
REQUEST_TIMEOUT = 60.0
# Generous: two cores shared with other suites. Nothing asserts how long anything took.
SESSION_TIMEOUT = 120.0

# Model names the CLIs are told to use. The scripted server answers any name; these
# are names the daemon has prices for, so cost is recorded (Claude reports its own).
CODEX_MODEL = "gpt-5.1-codex-mini"
CLAUDE_MODEL = "sonnet"


def find_cli(name: str) -> str:
    """The real CLI's path, or fail (CI) / skip (locally) with a clear message."""
    candidate = AGENT_BIN / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    message = (f"the real `{name}` CLI is not installed: run `bash .ci/install-agents.sh` "
               f"(installs pinned versions into {AGENT_BIN.parent.parent}) or put it on PATH")
    missing(message)


# ----- per-CLI knowledge ---------------------------------------------------------------------


@dataclass(frozen=True)
class Agent:
    """What differs between the two CLIs, as seen from a test."""

    name: str  # the daemon's adapter name
    api: str  # which scripted API it calls: "responses" or "messages"

    def shell(self, command: str) -> dict[str, Any]:
        """A tool call that makes the agent run `command` in a shell."""
        if self.name == "codex":
            return {"name": "exec_command", "arguments": {"cmd": command}}
        return {"name": "Bash", "arguments": {"command": command,
                                              "description": "run a shell command"}}

    def write_file(self, path: Path, content: str) -> dict[str, Any]:
        """A tool call that makes the agent create `path` with its file-editing tool
        (Codex: apply_patch, which it intercepts from exec_command; Claude: Write)."""
        if self.name == "codex":
            lines = "".join(f"+{line}\n" for line in content.splitlines())
            patch = f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n"
            return self.shell(f"apply_patch <<'PATCH'\n{patch}PATCH\n")
        return {"name": "Write", "arguments": {"file_path": str(path), "content": content}}

    def scenario(self, *replies: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {self.api: list(replies)}


CODEX = Agent("codex", "responses")
CLAUDE = Agent("claude", "messages")
AGENTS = {"codex": CODEX, "claude": CLAUDE}


# ----- config files ----------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # JSON string escapes are valid TOML basic strings


def toml_text(data: dict[str, Any], comments: dict[str, str] | None = None) -> str:
    """A small TOML writer: scalars first, then one [table] per nested dict."""
    comments = comments or {}
    lines: list[str] = []

    def emit(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            if not isinstance(value, dict):
                if key in comments:
                    lines.append(f"# {comments[key]}")
                lines.append(f"{key} = {toml_value(value)}")
        for key, value in table.items():
            if isinstance(value, dict):
                lines.extend(["", f"[{prefix}{key}]"])
                emit(value, f"{prefix}{key}.")

    emit(data, "")
    return "\n".join(lines) + "\n"


@dataclass
class Project:
    """A throwaway project wired to a scripted model server."""

    root: Path
    home: Path
    codex_home: Path
    server: ScriptedModelServer
    codex_binary: str | None = None
    claude_binary: str | None = None
    codex: dict[str, Any] = field(default_factory=dict)
    claude: dict[str, Any] = field(default_factory=dict)

    def configure(self, agent: str, **changes: Any) -> None:
        """Change a setting of one CLI's config (before the daemon starts)."""
        getattr(self, agent).update(changes)
        self.write()

    def write(self) -> None:
        zdir = self.root / ".zwarm"
        zdir.mkdir(parents=True, exist_ok=True)
        if self.codex:
            (zdir / "codex.toml").write_text(toml_text(self.codex, {
                "sandbox": "the default; bwrap works here, so no danger mode is needed"}))
        if self.claude:
            (zdir / "claude.toml").write_text(toml_text(self.claude))


def codex_config(binary: str, server: ScriptedModelServer, home: Path,
                 codex_home: Path) -> dict[str, Any]:
    return {
        "binary": binary,
        "model": CODEX_MODEL,
        "sandbox": "workspace-write",
        # Everything below is forwarded to codex as `-c key=value`.
        "model_provider": "scripted",
        "extra_args": ["--disable", "plugins"],
        "analytics": {"enabled": False},
        "model_providers": {"scripted": {
            "name": "Scripted model server",
            "base_url": server.openai_base_url,
            "env_key": "SCRIPTED_MODEL_API_KEY",
            "wire_api": "responses",
            # Codex retries 5xx and cut streams several times by default; fail fast.
            "request_max_retries": 0,
            "stream_max_retries": 0,
        }},
        "env": {"HOME": str(home), "CODEX_HOME": str(codex_home),
                "SCRIPTED_MODEL_API_KEY": "dummy-key"},
    }


def claude_config(binary: str, server: ScriptedModelServer, home: Path) -> dict[str, Any]:
    return {
        "binary": binary,
        "model": CLAUDE_MODEL,
        "permission_mode": "acceptEdits",
        "allowed_tools": ["Bash"],
        "env": {
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": server.url,
            "ANTHROPIC_API_KEY": "dummy-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            # Claude retries failed API calls with backoff; fail fast in tests.
            "CLAUDE_CODE_MAX_RETRIES": "0",
        },
    }


# ----- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def model_server(tmp_path: Path) -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(log_path=tmp_path / "model-requests.jsonl") as server:
        yield server


@pytest.fixture
def real_project(tmp_path: Path, model_server: ScriptedModelServer) -> Project:
    """A project configured for whichever real CLIs are installed (tests that need one
    ask for it with `need(...)`)."""
    root = tmp_path / "project"
    root.mkdir()
    home, codex_home = tmp_path / "home", tmp_path / "codex-home"
    home.mkdir()
    codex_home.mkdir()
    project = Project(root=root, home=home, codex_home=codex_home, server=model_server)
    return project


def need(project: Project, agent: str) -> None:
    """Require the real CLI `agent` and write its config into the project."""
    binary = find_cli(agent)
    if agent == "codex":
        project.codex_binary = binary
        project.codex = codex_config(binary, project.server, project.home, project.codex_home)
    else:
        project.claude_binary = binary
        project.claude = claude_config(binary, project.server, project.home)
    project.write()


class Daemon:
    """A running `zwarm-ls serve` and the pytest-lsp client talking to it."""

    def __init__(self, client: LanguageClient):
        self.client = client
        self.updates: list[dict[str, Any]] = []

        @client.feature("zwarm/sessionUpdated")
        def on_update(params: Any) -> None:
            self.updates.append(plain(params))

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await asyncio.wait_for(
            self.client.protocol.send_request_async(f"zwarm/{method}", params or {}),
            REQUEST_TIMEOUT)
        return plain(result)

    async def wait_done(self, session_id: str, timeout: float = SESSION_TIMEOUT
                        ) -> dict[str, Any]:
        """Block until the session is no longer pending/running; its checkSession."""
        deadline = time.monotonic() + timeout
        while True:
            check = await self.call("checkSession", {"sessionId": session_id})
            if check["status"] not in ("pending", "running"):
                return check
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"session {session_id[:8]} still {check['status']} "
                                     f"after {timeout:.0f}s: {json.dumps(check)[:1500]}")
            await self.call("waitForSessions", {"sessionIds": [session_id],
                                                "timeoutS": min(left, 20.0)})

    async def steps(self, session_id: str) -> list[dict[str, Any]]:
        result = await self.call("getTrajectory", {"sessionId": session_id, "full": True})
        return result["steps"]


@pytest.fixture
async def start_daemon(real_project: Project) -> AsyncIterator[Any]:
    """Start the daemon on the project (after the test wrote its config)."""
    clients: list[LanguageClient] = []

    async def start() -> Daemon:
        config = ClientServerConfig(server_command=SERVER, server_env=dict(os.environ))
        client = await config.start()
        clients.append(client)
        daemon = Daemon(client)
        await asyncio.wait_for(client.initialize_session(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(),
            root_uri=real_project.root.as_uri())), REQUEST_TIMEOUT)
        return daemon

    yield start
    for client in clients:
        try:
            await asyncio.wait_for(client.shutdown_session(), REQUEST_TIMEOUT)
        except Exception:
            await client.stop()


# ----- processes ---------------------------------------------------------------------------


def _proc_entries() -> Iterator[tuple[int, str, str | None, int | None]]:
    """(pid, cmdline, cwd, pgid) of every live, non-zombie process we can see."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] == "Z":
            continue
        try:
            cwd: str | None = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = None
        yield pid, cmdline.decode(errors="replace"), cwd, int(fields[2])


def leftover_processes(binary: str, working_dir: str, pgid: int | None) -> list[str]:
    """Processes that belong to a session: in the runner's process group, or running the
    CLI binary (or its native payload) with the session's working dir as cwd or argument."""
    names = {Path(binary).name, Path(os.path.realpath(binary)).name}
    found = []
    for pid, cmdline, cwd, group in _proc_entries():
        if pid == os.getpid():
            continue
        in_group = pgid is not None and group == pgid
        runs_cli = any(n in cmdline for n in names) and (
            cwd == working_dir or working_dir in cmdline)
        if in_group or runs_cli:
            found.append(f"pid {pid} pgid {group} cwd {cwd}: {cmdline[:200]}")
    return found


def wait_no_leftovers(binary: str, working_dir: str, pgid: int | None,
                      timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        left = leftover_processes(binary, working_dir, pgid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)
