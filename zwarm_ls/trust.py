"""Who may widen what an agent can do (DESIGN.md §9).

Settings that widen an agent's reach — bypass and danger modes, another binary, extra
arguments, environment, more directories, another model endpoint, a remote executor —
count only from the user's own config (`~/.config/zwarm-ls/config.toml`) or for a folder
the user trusts (`zwarm-ls trust`, or the editor's workspace trust). A repository's
`.zwarm/` files and workspace settings may narrow; what they try to widen is dropped,
and the daemon says so.
"""

from __future__ import annotations

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
    "executor": {"kind", "address", "runtime_env", "resources"},
}
# Values that widen: the danger modes of each CLI.
WIDENING_VALUES: dict[tuple[str, str], set[str]] = {
    ("codex", "sandbox"): {"danger-full-access"},
    ("claude", "permission_mode"): {"bypassPermissions"},
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
    path.write_text(body, encoding="utf-8")
    path.chmod(0o600)
    return path


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def narrow(raw: dict[str, Any], where: str) -> tuple[dict[str, Any], list[str]]:
    """`raw` without the settings that widen, and a warning for each one dropped."""
    out: dict[str, Any] = {}
    dropped: list[str] = []
    for section, values in raw.items():
        if not isinstance(values, dict):
            out[section] = values
            continue
        kept = {}
        for key, value in values.items():
            widens = key in WIDENING_KEYS.get(section, set()) and value not in (None, [], {},
                                                                                 False, "")
            widens |= value in WIDENING_VALUES.get((section, key), set()) \
                if isinstance(value, str) else False
            if widens:
                dropped.append(f"{where}: ignored {section}.{key} — it widens what agents may "
                               "do; set it in your user config or trust this folder "
                               "(`zwarm-ls trust`)")
            else:
                kept[key] = value
        out[section] = kept
    return out, dropped
