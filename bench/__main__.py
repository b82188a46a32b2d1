"""`python -m bench [--quick] [--only store,ingest,lsp]`: run the benchmarks, print one
markdown table and write it, with the date, machine and command, to bench/RESULTS.md.

All generated data lives in one temp dir that is removed at the end, whatever happens.
The zwarm 3.9.0 wheel used as the baseline is cached in .ci-cache/bench (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from . import changes_bench, ingest_bench, list_bench, lsp_bench, memory_bench, store_bench
from .baseline import CACHE, VERSION, load_sessions
from .stats import Row, table

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SUITES = ("list", "store", "ingest", "lsp", "memory", "changes")

LEGEND = f"""\
ratio = zwarm-ls ÷ baseline. For latencies and times below 1x means zwarm-ls is faster;
for MB/s above 1x means zwarm-ls is faster.
- `[store]` and `[ingest]`: the baseline is zwarm {VERSION}'s own session managers
  (`zwarm.sessions`, from the PyPI wheel), called in this process on the same files,
  the way zwarm's orchestrator tools call them.
- `[lsp]`: the baseline is the same daemon without load, so ratio = loaded ÷ unloaded."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smaller store and shorter phases (under a minute)")
    parser.add_argument("--only", default=",".join(SUITES),
                        help="comma-separated subset of: " + ", ".join(SUITES))
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md",
                        help="where to write the results (default: bench/RESULTS.md)")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    args = parser.parse_args(argv)
    args.suites = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    return args


class Log:
    """Progress on stderr, so stdout carries only the table."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True)


async def run_suites(args: argparse.Namespace, tmp: Path, log: Log) -> list[Row]:
    rows: list[Row] = []
    if "list" in args.suites:
        rows += await list_bench.run(tmp, list_bench.QUICK if args.quick else list_bench.FULL,
                                     log)
    if "store" in args.suites:
        rows += await store_bench.run(tmp, store_bench.QUICK if args.quick else store_bench.FULL,
                                      log)
    if "ingest" in args.suites:
        cfg = ingest_bench.QUICK if args.quick else ingest_bench.FULL
        rows += ingest_bench.run(tmp, cfg, log)
    if "lsp" in args.suites:
        rows += await lsp_bench.run(tmp, lsp_bench.QUICK if args.quick else lsp_bench.FULL, log)
    if "memory" in args.suites:
        rows += await memory_bench.run(tmp, memory_bench.QUICK if args.quick
                                       else memory_bench.FULL, log)
    if "changes" in args.suites:
        cfg = changes_bench.QUICK if args.quick else changes_bench.FULL
        rows += await asyncio.to_thread(changes_bench.run, tmp, cfg, log)
    return rows


def command_line(argv: list[str]) -> str:
    python = Path(sys.executable)
    shown = os.path.relpath(python, REPO) if python.is_relative_to(REPO) else str(python)
    return shlex.join([shown, "-m", "bench", *argv])


def commit() -> str:
    """The commit measured, marked dirty when the working tree differs from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                  ":(exclude)bench/RESULTS.md")  # the file this run rewrites
    return head + (" (with uncommitted changes)" if changed else "")


def load_average() -> str:
    """1/5/15-minute load: on a shared box this says how much the numbers were disturbed."""
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def machine(load_at_start: str) -> str:
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
            f"Python {platform.python_version()} on {platform.system()} {platform.release()}; "
            f"load average {load_at_start} at the start, {load_average()} at the end")


def results_markdown(rows: list[Row], argv: list[str], elapsed_s: float,
                     load_at_start: str) -> str:
    return "\n".join([
        "# zwarm-ls benchmark results", "",
        f"- commit: {commit()}",
        f"- date: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {machine(load_at_start)}",
        f"- command: `{command_line(argv)}` (from the repo root; took {elapsed_s:.0f} s)",
        "- what each row measures: bench/README.md", "",
        LEGEND, "",
        table(rows), "",
    ])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    log = Log()
    load_at_start = load_average()
    load_sessions(CACHE)  # fetch the baseline first: fail before any work if PyPI is down
    log(f"baseline: zwarm {VERSION} sessions package from {CACHE}")
    tmp = Path(tempfile.mkdtemp(prefix="zwarm-bench-"))
    try:
        rows = asyncio.run(run_suites(args, tmp, log))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - log.start
    text = results_markdown(rows, argv, elapsed, load_at_start)
    print(text)
    if not args.no_write:
        args.results.write_text(text)
        log(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
