"""Configuration: one typed model, read once from the project's `.zwarm/` files and
overridden by the editor (`initializationOptions`, `workspace/didChangeConfiguration`).

Files, lowest precedence first:
  .zwarm/config.toml   daemon, orchestrator, watchers (zwarm 3.x sections are accepted)
  .zwarm/codex.toml    Codex CLI settings; keys we do not own are passed on as `-c k=v`
  .zwarm/claude.toml   Claude Code settings
  zwarm.yaml           project context for the orchestrator

Unknown keys produce warnings, never a failed start (zwarm crashed on them).
"""

from __future__ import annotations

import copy
import logging
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import trust

log = logging.getLogger(__name__)

ZWARM_DIR = ".zwarm"


class Section(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DaemonConfig(Section):
    # None: only the project directory; ["*"]: anywhere; else these dirs and below.
    allowed_dirs: list[str] | None = None
    default_adapter: Literal["codex", "claude"] = "codex"
    show_notifications: bool = True


class AdapterConfig(Section):
    """Settings shared by every agent CLI."""

    model: str | None = None
    binary: str | None = None
    full_danger: bool = False
    env: dict[str, str] = Field(default_factory=dict)
    extra_args: list[str] = Field(default_factory=list)


class CodexConfig(AdapterConfig):
    sandbox: Literal["read-only", "workspace-write", "danger-full-access"] = "workspace-write"
    # Every other key of codex.toml, forwarded to the CLI as `-c key=value`.
    overrides: dict[str, Any] = Field(default_factory=dict)


class ClaudeConfig(AdapterConfig):
    permission_mode: Literal["default", "acceptEdits", "plan", "bypassPermissions"] = "acceptEdits"
    allowed_tools: list[str] = Field(default_factory=list)


class LLMConfig(Section):
    provider: Literal["openai", "anthropic"] = "openai"
    model: str = "gpt-5-mini"
    base_url: str | None = None
    api_key_env: str | None = None
    max_retries: int = 4
    max_output_tokens: int = 4096


class OrchestratorConfig(LLMConfig):
    max_steps: int = 50
    max_steps_per_turn: int = 60
    max_context_chars: int = 400_000
    bash_timeout_s: float = 60.0
    bash_output_cap: int = 8000
    # Added for the orchestrator package (zwarm_ls/orchestrator/).
    stream: bool = True
    retry_backoff_s: float = 1.0  # first retry delay; doubles per attempt, capped at 30 s
    request_timeout_s: float = 600.0
    tool_timeout_s: float = 120.0  # sleep/wait/bash/chat get their own, longer limits
    chat_timeout_s: float = 900.0  # how long chat(wait_for_user_input) waits for the user
    max_tool_output_chars: int = 20_000  # one tool result is cut to this in the history
    # OpenAI `reasoning.effort`; Anthropic: an extended-thinking budget (providers/).
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None


class WatcherSpec(Section):
    name: str
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class WatchersConfig(Section):
    enabled: bool = True
    # How a nudge reaches the model: user, system or developer (orchestrator/watchers.py).
    message_role: str = "user"
    watchers: list[WatcherSpec] = Field(
        default_factory=lambda: [
            WatcherSpec(name="progress"),
            WatcherSpec(name="budget"),
            WatcherSpec(name="delegation"),
            WatcherSpec(name="delegation_reminder"),
        ]
    )


class ProjectContext(Section):
    description: str | None = None
    context: str | None = None
    constraints: list[str] = Field(default_factory=list)


class SessionsConfig(Section):
    """Change sets (DESIGN.md §7)."""

    # None: `worktree` in a git repository, `inplace` elsewhere and for orchestrator crews.
    isolation: Literal["worktree", "inplace"] | None = None
    # Files larger than this are left out of snapshots (and listed as skipped).
    snapshot_max_file_mb: float = Field(default=5.0, gt=0, le=1024)


class ExecutorConfig(Section):
    """Where turns run (DESIGN.md §8)."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = None
    runtime_env: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, float] = Field(default_factory=dict)
    max_concurrent: int = Field(default=16, ge=1, le=10_000)


class Config(BaseModel):
    root: Path
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    sessions: SessionsConfig = Field(default_factory=SessionsConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    codex: CodexConfig = Field(default_factory=CodexConfig)
    claude: ClaudeConfig = Field(default_factory=ClaudeConfig)
    orchestrator: OrchestratorConfig = Field(default_factory=OrchestratorConfig)
    watchers: WatchersConfig = Field(default_factory=WatchersConfig)
    project: ProjectContext = Field(default_factory=ProjectContext)

    @property
    def zwarm_dir(self) -> Path:
        return self.root / ZWARM_DIR

    def adapter(self, name: str) -> AdapterConfig:
        return self.codex if name == "codex" else self.claude


# zwarm 3.x config.toml sections and keys that are understood but have no effect here.
_LEGACY_SECTIONS = {"weave", "state_dir"}
_CONFIG_SECTIONS = {"daemon", "sessions", "executor", "orchestrator", "watchers", "pilot"}


def _read_toml(path: Path, warnings: list[str]) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        warnings.append(f"{path}: cannot be read ({exc}); using defaults")
        return {}


def _unknown(data: dict[str, Any], model: type[BaseModel], where: str) -> list[str]:
    return [f"{where}: unknown key '{k}' ignored" for k in data if k not in model.model_fields]


def _normalize_watchers(raw: Any) -> dict[str, Any]:
    """Accept zwarm's shorthand `watchers = ["progress", ...]` as well as the table form."""
    if isinstance(raw, list):
        return {"watchers": [w if isinstance(w, dict) else {"name": w} for w in raw]}
    return raw if isinstance(raw, dict) else {}


def _split_codex(data: dict[str, Any]) -> dict[str, Any]:
    own = {k: v for k, v in data.items() if k in CodexConfig.model_fields}
    own["overrides"] = {
        **{k: v for k, v in data.items() if k not in CodexConfig.model_fields},
        **data.get("overrides", {}),
    }
    return own


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A new dict: `override` merged into `base`, tables recursively; inputs untouched."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# zwarm 3.x kept the agent defaults in [executor]; zwarm-ls's [executor] says where turns
# run. Those keys map onto the daemon and CLI sections (the dedicated files win).
ZWARM_EXECUTOR_KEYS = {"adapter", "model", "sandbox", "timeout", "reasoning_effort",
                       "web_search"}


def _apply_zwarm_executor(raw: dict[str, Any], old: dict[str, Any]) -> None:
    adapter = old.get("adapter")
    if adapter in ("codex", "claude"):
        raw["daemon"] = {"default_adapter": adapter, **raw.get("daemon", {})}
    target = adapter if adapter in ("codex", "claude") else "codex"
    if isinstance(old.get("model"), str):
        raw[target] = {"model": old["model"], **raw.get(target, {})}
    if isinstance(old.get("sandbox"), str):
        raw["codex"] = {"sandbox": old["sandbox"], **raw.get("codex", {})}


def read_files(root: Path, warnings: list[str]) -> dict[str, Any]:
    """The raw, merged dict of every config file under `root`."""
    zdir = root / ZWARM_DIR
    main = _read_toml(zdir / "config.toml", warnings)
    for key in main:
        if key not in _CONFIG_SECTIONS | _LEGACY_SECTIONS:
            warnings.append(f"{zdir / 'config.toml'}: unknown section '{key}' ignored")
    executor = dict(main.get("executor", {})) if isinstance(main.get("executor"), dict) else {}
    zwarm_executor = {k: executor.pop(k) for k in ZWARM_EXECUTOR_KEYS if k in executor}
    raw: dict[str, Any] = {
        "daemon": main.get("daemon", {}),
        "sessions": main.get("sessions", {}),
        "executor": executor,
        "orchestrator": main.get("orchestrator", {}),
        "watchers": _normalize_watchers(main.get("watchers", {})),
        "codex": _split_codex(_read_toml(zdir / "codex.toml", warnings)),
        "claude": _read_toml(zdir / "claude.toml", warnings),
    }
    _apply_zwarm_executor(raw, zwarm_executor)
    project_file = root / "zwarm.yaml"
    if project_file.is_file():
        try:
            loaded = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
            raw["project"] = loaded if isinstance(loaded, dict) else {}
        except (yaml.YAMLError, OSError) as exc:
            warnings.append(f"{project_file}: cannot be read ({exc})")
    return raw


_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "daemon": DaemonConfig,
    "sessions": SessionsConfig,
    "executor": ExecutorConfig,
    "codex": CodexConfig,
    "claude": ClaudeConfig,
    "orchestrator": OrchestratorConfig,
    "watchers": WatchersConfig,
    "project": ProjectContext,
}


def build_config(root: Path, raw: dict[str, Any], warnings: list[str]) -> Config:
    """Validate `raw` section by section; a bad section falls back to its defaults."""
    sections: dict[str, Any] = {}
    for name, model in _SECTION_MODELS.items():
        data = raw.get(name) or {}
        if not isinstance(data, dict):
            warnings.append(f"config section '{name}' must be a table; using defaults")
            continue
        if name not in ("codex", "project"):
            warnings.extend(_unknown(data, model, name))
        try:
            sections[name] = model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            warnings.append(f"config {where}: {first['msg']}; section '{name}' uses defaults")
    return Config(root=root.resolve(), **sections)


def read_user_config(warnings: list[str]) -> dict[str, Any]:
    """The user's own config (trusted): the sections of config.toml, codex.toml and
    claude.toml in one file, `~/.config/zwarm-ls/config.toml`."""
    data = _read_toml(trust.user_config_file(), warnings)
    if isinstance(data.get("codex"), dict):
        data["codex"] = _split_codex(data["codex"])
    if "watchers" in data:
        data["watchers"] = _normalize_watchers(data["watchers"])
    return {k: v for k, v in data.items() if k in _SECTION_MODELS}


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> tuple[Config, list[str]]:
    """The user's config, then the project's files and the editor's settings over it —
    the latter two only narrowing unless the folder is trusted (DESIGN.md §9)."""
    warnings: list[str] = []
    options = dict(overrides or {})
    trusted = options.pop("trustedFolder", None) is True or trust.is_trusted(root)
    project = read_files(root, warnings)
    user = read_user_config(warnings)
    if not trusted:
        project, dropped = trust.narrow(project, f"{root / ZWARM_DIR}", user)
        warnings += dropped
    raw = deep_merge(user, project)
    if options:
        for key in options:
            if key not in _SECTION_MODELS:
                warnings.append(f"client settings: unknown key '{key}' ignored")
        client = {k: v for k, v in options.items() if k in _SECTION_MODELS}
        if not trusted:
            client, dropped = trust.narrow(client, "editor settings", raw)
            warnings += dropped
        raw = deep_merge(raw, client)
        if "codex" in client and isinstance(raw.get("codex"), dict):
            raw["codex"] = _split_codex(raw["codex"])
    config = build_config(root, raw, warnings)
    for warning in warnings:
        log.warning("%s", warning)
    return config, warnings
