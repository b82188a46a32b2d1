"""The Ray executor: each turn is a job on a Ray cluster (DESIGN.md §8)."""

from __future__ import annotations

from ..config import ExecutorConfig
from ..store import SessionMeta, Store


class RayExecutor:
    kind = "ray"

    def __init__(self, config: ExecutorConfig | None = None):
        self.config = config or ExecutorConfig(kind="ray")

    def launch(self, store: Store, meta: SessionMeta, turn: int, prompt: str,
               argv: list[str], env: dict[str, str]) -> None:
        raise ConnectionError("the Ray executor is not ready yet")

    def terminate(self, store: Store, meta: SessionMeta, turn: int) -> bool:
        return False
