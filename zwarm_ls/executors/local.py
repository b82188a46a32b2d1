"""The local executor: today's detached runner on this machine."""

from __future__ import annotations

from .. import runner
from ..store import SessionMeta, Store


class LocalExecutor:
    kind = "local"

    def launch(self, store: Store, meta: SessionMeta, turn: int, prompt: str,
               argv: list[str], env: dict[str, str]) -> None:
        runner.launch(store, meta, turn, prompt, argv, env)

    def terminate(self, store: Store, meta: SessionMeta, turn: int) -> bool:
        return runner.terminate(store.turn_paths(meta.id, turn))
