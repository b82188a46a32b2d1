"""Timing helpers and the results table."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

LogFn = Callable[[str], None]  # progress messages (stderr)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile: with few samples p99 is simply the slowest one, which is
    the honest reading rather than an interpolated value that was never observed."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def time_sync(fn: Callable[[], object], calls: int) -> list[float]:
    """Latency of each of `calls` calls, in milliseconds."""
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def time_async(fn: Callable[[], Awaitable[object]], calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def freeze_harness() -> None:
    """Keep this process's own objects (the generated store's facts, zwarm's modules, the
    client) out of the garbage collector's full passes before a timed loop, for both
    sides: otherwise a pass over the harness's heap lands in the timings, which an editor,
    a process of its own, would not pay. Each reply's objects are collected as usual."""
    gc.collect()
    gc.freeze()


@dataclass
class Row:
    """One line of the table. `ratio` is always ours / baseline; the name says whether
    lower (latency) or higher (throughput) is better."""

    name: str
    ours: float
    baseline: float | None = None
    unit: str = "ms"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0 or math.isnan(self.baseline):
            return None
        return self.ours / self.baseline


def fmt(value: float | None, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "—"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 0.1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None or math.isnan(ratio):
        return "—"
    return f"{ratio:.3g}x"


def latency_rows(label: str, ours: list[float], baseline: list[float] | None,
                 note: str = "") -> list[Row]:
    """p50 and p99 rows for one operation."""
    rows = []
    for q in (50, 99):
        base = percentile(baseline, q) if baseline is not None else None
        rows.append(Row(f"{label} p{q}", percentile(ours, q), base,
                        note=note if q == 50 else ""))
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| benchmark | zwarm-ls | baseline | ratio |", "|---|---:|---:|---:|"]
    for row in rows:
        name = f"{row.name} — {row.note}" if row.note else row.name
        lines.append(f"| {name} | {fmt(row.ours, row.unit)} | {fmt(row.baseline, row.unit)} | "
                     f"{fmt_ratio(row.ratio)} |")
    return "\n".join(lines)
