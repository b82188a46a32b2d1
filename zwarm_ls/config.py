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
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import models, trust
from .errors import InvalidParams

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


def _read_toml(path: Path, warnings: list[str]) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        warnings.append(f"{path}: cannot be read ({exc}); using defaults")
        return {}


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


# ----- zwarm 3.9 compatibility -------------------------------------------------------------
# Every key of a zwarm 3.9 config.toml is applied (translated below) or reported at start
# with one of these reasons; none is dropped silently. A key is only reported while its
# section has no field of that name, so a key that gains support stops being reported.
ZWARM_UNSUPPORTED: dict[str, str] = {
    "executor.timeout": "turns have no time limit (zwarm 3.9 did not apply it either); "
                        "stop one with `zwarm-ls end ID`",
    "executor.reasoning_effort": "zwarm 3.9 did not pass it on either; set "
                                 "model_reasoning_effort in .zwarm/codex.toml",
    "executor.web_search": "set [features] web_search_request = true in .zwarm/codex.toml",
    "orchestrator.prompt": "the orchestrator's instructions are built in (zwarm 3.9 did not "
                           "read it either); give project context in zwarm.yaml",
    "orchestrator.tools": "the orchestrator's tools are fixed (zwarm 3.9 did not read it "
                          "either)",
    "orchestrator.parallel_delegations": "zwarm 3.9 did not read it either; [executor] "
                                         "max_concurrent limits concurrent turns",
    "orchestrator.compaction": "the history is cut at orchestrator.max_context_chars "
                               "instead of being compacted",
    "orchestrator.tc_compression": "only its max_chars is used (as orchestrator."
                                   "max_tool_output_chars); tool output cannot go uncut",
    "pilot": "zwarm 3.9 ignored [pilot] too; the pilot uses [orchestrator] (model, "
             "max_steps_per_turn) and `zwarm-ls pilot --model/--reasoning-effort`",
    "weave": "there is no Weave tracing; every session and orchestrator run is recorded "
             "under .zwarm/ instead",
    "state_dir": "state always lives in the project's .zwarm/",
}
# Sections of a config file besides the model's; reported with their reason when present.
_ZWARM_ONLY = {"pilot", "weave", "state_dir"}


def _report(dotted: str, where: str) -> str:
    return f"{where}: {dotted} (zwarm 3.x) is not supported: {ZWARM_UNSUPPORTED[dotted]}"


@dataclass
class _Translation:
    """What translating one file learns besides the sections: where to report, the
    warnings, and which zwarm key each moved value came from."""

    where: str
    warnings: list[str]
    origins: dict[str, str]

    def move(self, data: dict[str, Any], key: str, raw: dict[str, Any], section: str,
             field: str, origin: str) -> None:
        """Take `key` out of `data` into raw[section][field]; when the same file sets that
        too, the zwarm-ls key wins and the old one is reported."""
        if key not in data:
            return
        value = data.pop(key)
        target = raw.setdefault(section, {})
        if not isinstance(target, dict):
            return  # build_config reports a section that is not a table
        if field in target:
            self.warnings.append(f"{self.where}: {origin} (zwarm 3.x) ignored: {section}."
                                 f"{field} is set too, and wins")
            return
        target[field] = value
        self.origins[f"{section}.{field}"] = origin


def _zwarm_executor(executor: dict[str, Any], raw: dict[str, Any], t: _Translation) -> None:
    """zwarm 3.x kept the agents' defaults in [executor]; zwarm-ls's [executor] says where
    turns run, so adapter, model and sandbox move to [daemon], [codex] and [claude]."""
    adapter = executor.pop("adapter", None)
    # codex_mcp was zwarm's name for codex run through its MCP server: codex here.
    name = "codex" if adapter == "codex_mcp" else adapter
    if name in models.ADAPTERS:
        executor["adapter"] = name
        t.move(executor, "adapter", raw, "daemon", "default_adapter", "[executor] adapter")
    elif adapter is not None:
        t.warnings.append(f"{t.where}: [executor] adapter {adapter!r} is not an agent CLI "
                          f"(codex or claude); the default adapter stays")
    model = executor.get("model")
    if isinstance(model, str) and model.strip():
        target = models.adapter_for_model(model) or (name if name in models.ADAPTERS
                                                      else "codex")
        executor["model"] = models.canonical(model)
        t.move(executor, "model", raw, target, "model", "[executor] model")
    elif "model" in executor and executor.pop("model") is not None:
        t.warnings.append(f"{t.where}: [executor] model must be a model name; ignored")
    t.move(executor, "sandbox", raw, "codex", "sandbox", "[executor] sandbox")
    if executor.get("web_search") is False:  # codex searches only when told to: the same
        executor.pop("web_search")


def _zwarm_orchestrator(orch: dict[str, Any], raw: dict[str, Any], t: _Translation) -> None:
    """zwarm's [orchestrator] also held where delegates may work, and other names."""
    t.move(orch, "allowed_dirs", raw, "daemon", "allowed_dirs", "[orchestrator] allowed_dirs")
    t.move(orch, "lm", raw, "orchestrator", "model", "[orchestrator] lm")
    tc = orch.get("tc_compression")
    if isinstance(tc, dict) and "max_chars" in tc:
        t.move(dict(tc), "max_chars", raw, "orchestrator", "max_tool_output_chars",
               "[orchestrator.tc_compression] max_chars")
        if set(tc) <= {"max_chars", "enabled", "compressor"} and tc.get("enabled", True) \
                and tc.get("compressor", "naive_size") == "naive_size":
            orch.pop("tc_compression")  # exactly what it did in zwarm


def translate(data: dict[str, Any], where: str, warnings: list[str],
              origins: dict[str, str] | None = None) -> dict[str, Any]:
    """One config file (or --set) in config.toml's shape, zwarm 3.x keys included, as
    zwarm-ls sections. `origins` learns which zwarm key each translated value came from."""
    t = _Translation(where, warnings, {} if origins is None else origins)
    raw: dict[str, Any] = {}
    for key, value in data.items():
        if key in _ZWARM_ONLY:
            if not (key == "state_dir" and value in (".zwarm", ZWARM_DIR)):
                warnings.append(_report(key, where))
        elif key not in _SECTION_MODELS:
            warnings.append(f"{where}: unknown section '{key}' ignored")
        elif key == "watchers":
            raw[key] = _normalize_watchers(value)
        elif key == "codex" and isinstance(value, dict):
            raw[key] = _split_codex(value)
        else:
            raw[key] = copy.deepcopy(value)
    if isinstance(raw.get("executor"), dict):
        _zwarm_executor(raw["executor"], raw, t)
    if isinstance(raw.get("orchestrator"), dict):
        _zwarm_orchestrator(raw["orchestrator"], raw, t)
    _report_unsupported(raw, where, warnings)
    return raw


def _report_unsupported(raw: dict[str, Any], where: str, warnings: list[str]) -> None:
    """Take out the zwarm keys that do nothing here, each with its reason."""
    for dotted in ZWARM_UNSUPPORTED:
        section, _, key = dotted.partition(".")
        table = raw.get(section)
        if key and isinstance(table, dict) and key in table \
                and key not in _SECTION_MODELS[section].model_fields:
            del table[key]
            warnings.append(_report(dotted, where))


def _unknown(data: dict[str, Any], model: type[BaseModel], where: str) -> list[str]:
    return [f"{where}: unknown key '{k}' ignored" for k in data if k not in model.model_fields]


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
    path = trust.user_config_file()
    return translate(_read_toml(path, warnings), str(path), warnings)


# ----- .env --------------------------------------------------------------------------------

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
# Names this process took from a .env file, and the file: `configs show` names the source.
_dotenv_loaded: dict[str, str] = {}


def _dotenv_value(text: str) -> str:
    """A value as python-dotenv reads it: quoted (double quotes know \\n, \\" and \\\\),
    or bare up to an inline ` #` comment."""
    if text[:1] in ("'", '"'):
        quote = text[0]
        end = text.find(quote, 1)
        while quote == '"' and end > 0 and text[end - 1] == "\\":
            end = text.find(quote, end + 1)
        if end > 0:
            inner = text[1:end]
            if quote == '"':
                inner = (inner.replace("\\\\", "\0").replace("\\n", "\n")
                         .replace('\\"', '"').replace("\0", "\\"))
            return inner
    return re.split(r"\s#", text, maxsplit=1)[0].strip()


def read_dotenv(path: Path, warnings: list[str]) -> dict[str, str]:
    """KEY=VALUE lines of `path` (comments, blank lines and `export ` allowed). A line that
    is none of these is reported by number only: its text may hold a secret."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        warnings.append(f"{path}: cannot be read ({type(exc).__name__})")
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        text = text.removeprefix("export ").lstrip()
        name, sep, value = text.partition("=")
        if not sep or not _ENV_NAME.match(name.strip()):
            warnings.append(f"{path}:{number}: not KEY=VALUE; line ignored")
            continue
        values[name.strip()] = _dotenv_value(value.strip())
    return values


def load_dotenv(root: Path, trusted: bool, warnings: list[str]) -> None:
    """Put the project's `.env` into this process's environment (the agents and the
    orchestrator inherit it). A variable already set wins, as with python-dotenv; values
    are never logged. Only for a trusted folder: a repository's .env could point the
    agents at another endpoint (OPENAI_BASE_URL) with your key (DESIGN.md §9)."""
    path = root / ".env"
    if not path.is_file():
        return
    if not trusted:
        warnings.append(f"{path}: not loaded, the folder is not trusted; `zwarm-ls trust` "
                        "if its variables are yours")
        return
    for name, value in read_dotenv(path, warnings).items():
        if name not in os.environ:
            os.environ[name] = value
            _dotenv_loaded[name] = str(path)


# ----- the command line: --config FILE, --set KEY=VALUE ------------------------------------

@dataclass(frozen=True)
class CommandLine:
    config_file: Path | None = None
    sets: tuple[str, ...] = ()


_command_line = CommandLine()
_SET_KEY = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$")
_PROJECT_KEYS = {"description", "context", "constraints"}  # zwarm.yaml's, in a --config
_MAX_EXTENDS = 8


def parse_value(text: str) -> Any:
    """zwarm's --set typing: true/false, int, float, else a string; also a TOML list,
    table or quoted string."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text[:1] in ("[", "{", '"', "'"):
        try:
            return tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            pass
    return text


# zwarm 3.x keys that name things: `--set executor.model=5.2` is a name, not a number.
_ZWARM_TEXT_KEYS = {"executor.model", "executor.adapter", "executor.sandbox", "orchestrator.lm"}


def _wants_text(parts: list[str]) -> bool:
    """Whether the setting at `parts` only takes text (a model name, a mode)."""
    if ".".join(parts) in _ZWARM_TEXT_KEYS:
        return True
    model = _SECTION_MODELS.get(parts[0]) if len(parts) == 2 else None
    info = model.model_fields.get(parts[1]) if model else None
    if info is None:
        return False
    kinds = get_args(info.annotation) or (info.annotation,)
    if get_origin(info.annotation) is Literal:
        return all(isinstance(k, str) for k in kinds)
    return str in kinds and not {int, float, bool} & set(kinds)


def parse_set(item: str) -> dict[str, Any]:
    """`a.b=c` as {"a": {"b": c}}, c typed unless the setting only takes text."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not _SET_KEY.match(key):
        raise InvalidParams(f"--set {item!r} is not KEY=VALUE",
                            hint="a dotted key, e.g. --set orchestrator.max_steps=20")
    out: dict[str, Any] = {}
    node = out
    *parents, last = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    text = text.strip()
    node[last] = text if _wants_text([*parents, last]) else parse_value(text)
    return out


def read_config_file(path: Path, depth: int = 0) -> dict[str, Any]:
    """A --config file: TOML, or YAML like zwarm's (`extends: base.yaml` merged under it,
    relative to the file). Raises InvalidParams: the user named it, so it must work."""
    try:
        text = path.read_text(encoding="utf-8")
        data = (yaml.safe_load(text) if path.suffix in (".yaml", ".yml")
                else tomllib.loads(text)) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise InvalidParams(f"--config {path}: cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidParams(f"--config {path}: must hold a table of sections")
    base = data.pop("extends", None)
    if base is not None:
        if depth >= _MAX_EXTENDS or not isinstance(base, str):
            raise InvalidParams(f"--config {path}: extends must name one file, at most "
                                f"{_MAX_EXTENDS} deep (is there a cycle?)")
        data = deep_merge(read_config_file(path.parent / base, depth + 1), data)
    project = {k: data.pop(k) for k in _PROJECT_KEYS if k in data}
    if project:
        data["project"] = {**project, **(data.get("project") or {})}
    return data


def use_command_line(config_file: Path | None, sets: list[str] | None) -> None:
    """`--config` and `--set` for every later load_config of this process (the daemon's
    too). They are the user's own words, so trusted. Checked now, to fail before start."""
    global _command_line
    for item in sets or []:
        parse_set(item)
    if config_file is not None:
        config_file = config_file.resolve()
        read_config_file(config_file)
    _command_line = CommandLine(config_file, tuple(sets or ()))


# ----- layers ------------------------------------------------------------------------------

@dataclass
class Layer:
    """One source of settings, lowest precedence first in `config_layers`."""

    label: str  # a file, "--set", "client"
    raw: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)  # dotted key → zwarm 3.x key


def _project_layers(root: Path, warnings: list[str]) -> list[Layer]:
    zdir = root / ZWARM_DIR
    main = Layer(str(zdir / "config.toml"), {})
    main.raw = translate(_read_toml(zdir / "config.toml", warnings), main.label, warnings,
                         main.origins)
    layers = [main,
              Layer(str(zdir / "codex.toml"),
                    {"codex": _split_codex(_read_toml(zdir / "codex.toml", warnings))}),
              Layer(str(zdir / "claude.toml"),
                    {"claude": _read_toml(zdir / "claude.toml", warnings)})]
    warnings.extend(_shadowed(main, layers[1:]))
    project_file = root / "zwarm.yaml"
    if project_file.is_file():
        try:
            loaded = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
            loaded = loaded if isinstance(loaded, dict) else {}
            layers.append(Layer(str(project_file), {"project": loaded}))
            warnings.extend(_yaml_unread(loaded, project_file))
        except (yaml.YAMLError, OSError) as exc:
            warnings.append(f"{project_file}: cannot be read ({exc})")
    return layers


def _shadowed(main: Layer, files: list[Layer]) -> list[str]:
    """zwarm keys of config.toml that codex.toml or claude.toml set again: the agents' own
    files win, and the user hears of it."""
    return [f"{main.label}: {origin} (zwarm 3.x) is overridden by {layer.label}"
            for key, origin in main.origins.items() for layer in files if _has(layer.raw, key)]


def _yaml_unread(loaded: dict[str, Any], path: Path) -> list[str]:
    """zwarm.yaml's keys that are not project context (zwarm 3.9 only read them when the
    file was given with --config, which works here too)."""
    return [f"{path}: '{key}' is not read here (zwarm 3.9 did not read it from zwarm.yaml "
            f"either); put it in .zwarm/config.toml or pass the file with --config"
            for key in loaded if key not in ProjectContext.model_fields]


def read_files(root: Path, warnings: list[str]) -> dict[str, Any]:
    """The raw, merged dict of every config file under `root`."""
    return _merge(_project_layers(root, warnings))


def _merge(layers: list[Layer]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for layer in layers:
        raw = deep_merge(raw, layer.raw)
    return raw


def _command_line_layers(warnings: list[str]) -> list[Layer]:
    layers = []
    cl = _command_line
    if cl.config_file is not None:
        layer = Layer(f"--config {cl.config_file}", {})
        try:
            layer.raw = translate(read_config_file(cl.config_file), layer.label, warnings,
                                  layer.origins)
        except InvalidParams as exc:  # changed since start: the rest still applies
            warnings.append(f"{exc}; ignored")
        layers.append(layer)
    if cl.sets:
        layer = Layer("--set", {})
        sets = _merge([Layer("", parse_set(item)) for item in cl.sets])
        layer.raw = translate(sets, "--set", warnings, layer.origins)
        layers.append(layer)
    return layers


def _client_layer(options: dict[str, Any], warnings: list[str]) -> Layer:
    for key in options:
        if key not in _SECTION_MODELS:
            warnings.append(f"client settings: unknown key '{key}' ignored")
    known = {k: v for k, v in options.items() if k in _SECTION_MODELS}
    layer = Layer("client", {})
    layer.raw = translate(known, "client settings", warnings, layer.origins)
    return layer


def config_layers(root: Path, overrides: dict[str, Any] | None = None,
                  ) -> tuple[list[Layer], list[str]]:
    """Every source of settings, lowest first: the user's config, the project's files,
    --config, --set, the editor's settings. The project's files and the editor's settings
    only narrow unless the folder is trusted (DESIGN.md §9)."""
    warnings: list[str] = []
    options = dict(overrides or {})
    trusted = options.pop("trustedFolder", None) is True or trust.is_trusted(root)
    load_dotenv(root, trusted, warnings)
    user_path = trust.user_config_file()
    layers = [Layer(str(user_path), read_user_config(warnings))]
    for layer in _project_layers(root, warnings):
        if not trusted:
            _narrow(layer, f"{root / ZWARM_DIR}", layers[0].raw, warnings)
        layers.append(layer)
    layers += _command_line_layers(warnings)
    if options:
        client = _client_layer(options, warnings)
        if not trusted:
            _narrow(client, "editor settings", _merge(layers), warnings)
        layers.append(client)
    return layers, warnings


def _narrow(layer: Layer, where: str, base: dict[str, Any], warnings: list[str]) -> None:
    """Drop what `layer` would widen; a warning names the zwarm key the user wrote."""
    layer.raw, dropped = trust.narrow(layer.raw, where, base)
    for message in dropped:
        origin = next((o for k, o in layer.origins.items() if f"ignored {k} " in message), "")
        warnings.append(message + (f" (written as zwarm's {origin})" if origin else ""))


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> tuple[Config, list[str]]:
    """The effective config of the project at `root` and the warnings about it."""
    layers, warnings = config_layers(root, overrides)
    config = build_config(root, _merge(layers), warnings)
    for warning in warnings:
        log.warning("%s", warning)
    return config, warnings


# ----- where each value came from (`zwarm-ls configs show`) --------------------------------

def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and prefix == "":
            out.update(_flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


def _has(raw: dict[str, Any], dotted: str) -> bool:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return not (isinstance(node, dict) and not node)  # an empty table sets nothing


def config_sources(root: Path, overrides: dict[str, Any] | None = None,
                   ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(effective values by dotted key, where each came from, warnings). A source is
    "default", a file, "--config FILE", "--set", "client" or, for the environment
    variables that matter, ".env" or "environment" (their values are never shown)."""
    layers, warnings = config_layers(root, overrides)
    config = build_config(root, _merge(layers), warnings)
    values = _flatten(config.model_dump(mode="json", exclude={"root"}))
    sources = {}
    for key in values:
        sources[key] = "default"
        for layer in layers:
            if _has(layer.raw, key):
                origin = layer.origins.get(key)
                sources[key] = layer.label + (f" {origin} (zwarm 3.x)" if origin else "")
    for name, source in _env_sources(config).items():
        values[f"env.{name}"] = "(set)" if name in os.environ else "(not set)"
        sources[f"env.{name}"] = source
    return values, sources, warnings


def _env_sources(config: Config) -> dict[str, str]:
    """The variables the orchestrator's key is read from, and every one a .env gave."""
    key_env = config.orchestrator.api_key_env or (
        "ANTHROPIC_API_KEY" if config.orchestrator.provider == "anthropic" else "OPENAI_API_KEY")
    names = {key_env: _dotenv_loaded.get(key_env, "environment")}
    names.update({n: path for n, path in _dotenv_loaded.items()
                  if path == str(config.root / ".env")})
    return names
