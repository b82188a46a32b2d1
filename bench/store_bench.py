"""Benchmark 1: list / peek / check latency on a big store, zwarm-ls vs zwarm 3.9.

Both run in this process on the same generated store, with a warm page cache. zwarm's
managers are measured first, while zwarm-ls is not running, so its watcher thread does
not steal the GIL from the baseline. zwarm-ls is then measured as it runs inside the
daemon: a started SessionService whose watcher keeps following the store.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zwarm_ls.config import load_config
from zwarm_ls.protocol import ListParams, SessionRef
from zwarm_ls.service import SessionService

from .baseline import Zwarm
from .gen import SessionInfo, StoreSpec, generate_store, tree_bytes
from .stats import LogFn, Row, latency_rows, time_async, time_sync


@dataclass(frozen=True)
class StoreBenchConfig:
    sessions: int
    total_bytes: int
    peek_calls: int
    check_calls: int
    list_calls: int
    baseline_list_calls: int
    sample: int = 60


FULL = StoreBenchConfig(1000, 100 * 1024 * 1024, 400, 200, 30, 3)
QUICK = StoreBenchConfig(250, 20 * 1024 * 1024, 150, 60, 10, 2)


def warm_page_cache(root: Path) -> None:
    """Read every file once so neither side pays for the first, cold read."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                while f.read(1 << 20):
                    pass


def pick_sample(infos: list[SessionInfo], size: int, seed: int = 11) -> list[SessionInfo]:
    """A fixed mix of sessions (both adapters, every status, small and big)."""
    rng = random.Random(seed)
    return rng.sample(infos, min(size, len(infos)))


def cycle(items: list[SessionInfo]) -> Callable[[], SessionInfo]:
    """Round-robin over the sample, so both sides ask for the same sessions in order."""
    it = itertools.cycle(items)
    return lambda: next(it)


def baseline_rows(project: Path, sample: list[SessionInfo],
                  cfg: StoreBenchConfig) -> dict[str, list[float]]:
    zw = Zwarm.open(project)
    peek_next, check_next, short_next = cycle(sample), cycle(sample), cycle(sample)

    def peek() -> None:
        info = peek_next()
        zw.peek(info.id, info.adapter)

    def peek_short() -> None:
        info = short_next()
        zw.peek(info.id[:8], info.adapter)

    def check() -> None:
        info = check_next()
        zw.check(info.id, info.adapter)

    return {
        "peek": time_sync(peek, cfg.peek_calls),
        "peek_short": time_sync(peek_short, max(20, cfg.peek_calls // 4)),
        "check": time_sync(check, cfg.check_calls),
        "list": time_sync(zw.list_with_messages, cfg.baseline_list_calls),
        "list_meta": time_sync(zw.list_meta, max(3, cfg.baseline_list_calls * 2)),
    }


async def ours_rows(project: Path, sample: list[SessionInfo],
                    cfg: StoreBenchConfig) -> tuple[dict[str, list[float]], float, float]:
    config, _ = load_config(project)
    svc = SessionService(config)
    start = time.perf_counter()
    await svc.start()
    build_s = time.perf_counter() - start
    peek_next, check_next, short_next = cycle(sample), cycle(sample), cycle(sample)
    try:
        results = {
            "peek": await time_async(lambda: svc.peek(SessionRef(session_id=peek_next().id)),
                                     cfg.peek_calls),
            "peek_short": await time_async(
                lambda: svc.peek(SessionRef(session_id=short_next().id[:8])),
                max(20, cfg.peek_calls // 4)),
            "check": await time_async(lambda: svc.check(SessionRef(session_id=check_next().id)),
                                      cfg.check_calls),
            "list": await time_async(lambda: svc.list(ListParams()), cfg.list_calls),
        }
    finally:
        await svc.stop()
    # What a wake of the watcher costs when nothing changed: a refresh, plus every
    # summary (served from the cache).
    tick = time_sync(lambda: (svc.index.refresh(), svc.index.summaries()), 20)
    return results, build_s, sorted(tick)[len(tick) // 2]


async def run(tmp: Path, cfg: StoreBenchConfig, log: LogFn) -> list[Row]:
    project = tmp / "store"
    start = time.perf_counter()
    infos = generate_store(project, StoreSpec(sessions=cfg.sessions, total_bytes=cfg.total_bytes,
                                              running_pid=os.getpid()))
    size_mb = tree_bytes(project) / 1e6
    log(f"store: {len(infos)} sessions, {size_mb:.1f} MB of turn files "
        f"(generated in {time.perf_counter() - start:.1f} s)")
    warm_page_cache(project)
    sample = pick_sample(infos, cfg.sample)
    base = baseline_rows(project, sample, cfg)
    log("store: zwarm 3.9 baseline measured")
    ours, build_s, tick_ms = await ours_rows(project, sample, cfg)
    log("store: zwarm-ls measured")
    tag = f"[store {len(infos)} sessions / {size_mb:.0f} MB]"
    rows = [Row(f"{tag} index build (service start)", build_s * 1000,
                note="zwarm has no index")]
    rows += latency_rows(f"{tag} list", ours["list"], base["list"],
                         note=f"baseline: list_sessions tool, {cfg.baseline_list_calls} calls")
    rows += latency_rows(f"{tag} list, vs zwarm meta-only `ls`", ours["list"], base["list_meta"])
    rows += latency_rows(f"{tag} peek", ours["peek"], base["peek"])
    rows += latency_rows(f"{tag} peek by 8-char id", ours["peek_short"], base["peek_short"])
    rows += latency_rows(f"{tag} check", ours["check"], base["check"],
                         note="zwarm-ls writes viewed_at only while a session needs attention")
    rows.append(Row(f"{tag} watcher wake with nothing new (refresh + summaries)", tick_ms,
                    note="the watcher wakes on file events and a 1 s safety poll"))
    return rows
