"""Who may widen what an agent can do (DESIGN.md §9).

Settings that widen an agent's reach — bypass and danger modes, another binary, extra
arguments, environment, more directories, another model endpoint, a remote executor —
count only from the user's own config (`~/.config/zwarm-ls/config.toml`) or for a folder
the user trusts (`zwarm-ls trust`, or the editor's workspace trust). A repository's
`.zwarm/` files and workspace settings may narrow; what they try to widen is dropped,
and the daemon says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any

ENV_DIR = "ZWARM_LS_CONFIG_DIR"

# Keys that widen, per section, whatever their value.
WIDENING_KEYS: dict[str, set[str]] = {
    "daemon": {"allowed_dirs"},
    "codex": {"full_danger", "binary", "env", "extra_args", "overrides"},
    "claude": {"full_danger", "binary", "env", "extra_args", "allowed_tools"},
    "orchestrator": {"base_url", "api_key_env"},
    "executor": {"address", "runtime_env", "resources"},
}
# Values that widen: the danger modes of each CLI, and a remote executor.
WIDENING_VALUES: dict[tuple[str, str], set[str]] = {
    ("codex", "sandbox"): {"danger-full-access"},
    ("claude", "permission_mode"): {"bypassPermissions"},
    ("executor", "kind"): {"ray"},
}
# Modes from narrowest to widest: below the user's own choice is narrowing, above it is not
# (a repository cannot turn the user's read-only back into workspace-write).
RANKED: dict[tuple[str, str], list[str]] = {
    ("codex", "sandbox"): ["read-only", "workspace-write", "danger-full-access"],
    ("claude", "permission_mode"): ["plan", "default", "acceptEdits", "bypassPermissions"],
}


def config_dir() -> Path:
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "zwarm-ls"


def user_config_file() -> Path:
    return config_dir() / "config.toml"


def trusted_file() -> Path:
    return config_dir() / "trusted.toml"


def trusted_folders() -> list[Path]:
    try:
        data = tomllib.loads(trusted_file().read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return []
    folders = data.get("folders", [])
    return [Path(f) for f in folders if isinstance(f, str)]


def is_trusted(root: Path) -> bool:
    resolved = root.resolve()
    return any(resolved == f or f in resolved.parents
               for f in (p.resolve() for p in trusted_folders()))


def trust(folder: Path) -> Path:
    """Add `folder` to the trusted folders (a file only the user can write)."""
    folders = [str(p) for p in trusted_folders()]
    resolved = str(folder.resolve())
    if resolved not in folders:
        folders.append(resolved)
    path = trusted_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "# Folders whose .zwarm/ config may widen what agents can do (zwarm-ls trust)\n"
    body += "folders = [\n" + "".join(f"  {_toml_string(f)},\n" for f in folders) + "]\n"
    # Written whole and private from the start, then put in place: a reader never sees
    # half a list, and nobody else ever reads it.
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    os.replace(temp, path)
    return path


def _toml_string(text: str) -> str:
    """A TOML basic string for any folder name (quotes, newlines, control characters):
    JSON's escapes are TOML's, except that TOML also wants DEL escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _widens(section: str, key: str, value: Any, base: dict[str, Any]) -> bool:
    if key in WIDENING_KEYS.get(section, set()) and value not in (None, [], {}, False, ""):
        return True
    if not isinstance(value, str):
        return False
    if value in WIDENING_VALUES.get((section, key), set()):
        return True
    order = RANKED.get((section, key))
    current = base.get(section, {}).get(key) if isinstance(base.get(section), dict) else None
    if order and value in order and current in order:
        return order.index(value) > order.index(current)
    return False


# Watchers that act outside the run: `quality` runs its command; `llm` with its own
# endpoint or key sends the run's digest there (orchestrator/watchers.py).
WIDENING_WATCHER_KEYS: dict[str, set[str]] = {
    "quality": {"command"},
    "llm": {"base_url", "api_key_env"},
}


def _narrow_watchers(specs: list[Any]) -> tuple[list[Any], list[str]]:
    """The watcher list without the watchers that widen, and their names."""
    kept, dropped = [], []
    for spec in specs:
        name = spec if isinstance(spec, str) else spec.get("name") if isinstance(spec, dict) \
            else None
        config = spec.get("config") if isinstance(spec, dict) else None
        keys = WIDENING_WATCHER_KEYS.get(str(name), set())
        if keys and isinstance(config, dict) and keys & {k for k, v in config.items() if v}:
            dropped.append(str(name))
        else:
            kept.append(spec)
    return kept, dropped


def narrow(raw: dict[str, Any], where: str,
           base: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """`raw` without the settings that widen, compared with the settings `base` it goes
    over (the user's own), and a warning for each one dropped."""
    out: dict[str, Any] = {}
    dropped: list[str] = []
    for section, values in raw.items():
        if not isinstance(values, dict):
            out[section] = values
            continue
        kept = {}
        for key, value in values.items():
            if section == "watchers" and key == "watchers" and isinstance(value, list):
                value, names = _narrow_watchers(value)
                dropped += [f"{where}: ignored the {name} watcher — it runs a command or "
                            "talks to a model endpoint of its own; set it in your user "
                            "config or trust this folder (`zwarm-ls trust`)" for name in names]
            if _widens(section, key, value, base or {}):
                dropped.append(f"{where}: ignored {section}.{key} — it widens what agents may "
                               "do; set it in your user config or trust this folder "
                               "(`zwarm-ls trust`)")
            else:
                kept[key] = value
        out[section] = kept
    return out, dropped
