"""Executors: where a turn runs (DESIGN.md §8). Everything above them — store, index,
change sets, protocol — is the same for all of them, because every executor keeps the
runner's contract on disk: `turns/turn_N.run.json` names a live local process, the
agent's stdout lands in `turn_N.jsonl`, and `turn_N.exit.json` says how the turn ended.

- `local`: the detached runner (`zwarm_ls.runner`) on this machine.
- `ray`: a job on a Ray cluster, followed by a detached local relay (`executors/ray.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..errors import InvalidParams

if TYPE_CHECKING:
    from ..config import ExecutorConfig
    from ..store import SessionMeta, Store


class Executor(Protocol):
    kind: str

    def launch(self, store: Store, meta: SessionMeta, turn: int, prompt: str,
               argv: list[str], env: dict[str, str]) -> None:
        """Start `turn` and return once it is under way (or queued). Raises OSError (a
        ConnectionError for an unreachable cluster) when it cannot start at all."""
        ...

    def terminate(self, store: Store, meta: SessionMeta, turn: int) -> bool:
        """End the running `turn`; True if something was running and was told to stop."""
        ...


def get_executor(kind: str, config: ExecutorConfig | None = None) -> Executor:
    """The executor named `kind` (`local` or `ray`), set up from `[executor]`."""
    if kind == "local":
        from .local import LocalExecutor

        return LocalExecutor()
    if kind == "ray":
        from .ray import RayExecutor  # imports no Ray itself: the relay does

        return RayExecutor(config)
    raise InvalidParams(f"unknown executor '{kind}'", hint="use 'local' or 'ray'")


__all__ = ["Executor", "get_executor"]
