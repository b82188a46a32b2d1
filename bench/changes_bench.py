"""Change sets: snapshot cost against the number of changed files (not the repo size),
reading a change set, and applying hunks — on a generated git repository.

Baselines, measured in the same run on the same tree:
- snapshot: the same snapshot with a cold index (every file hashed again), which is what
  a checkpointer without a persistent index per tree pays on every turn;
- O(changed files): 1,000 changed files against 10 on the same repository.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from zwarm_ls.changes.changeset import ChangeSets
from zwarm_ls.changes.shadow import Author
from zwarm_ls.store import SessionMeta, Store

from .stats import LogFn, Row, percentile


@dataclass(frozen=True)
class Config:
    files: int
    rounds: int
    seed: int = 7


FULL = Config(files=10_000, rounds=9)
QUICK = Config(files=2_000, rounds=5)


def _make_repo(root: Path, cfg: Config) -> list[Path]:
    rng = random.Random(cfg.seed)
    paths = []
    for i in range(cfg.files):
        path = root / f"pkg{i % 50:02d}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"value_{i}_{n} = {rng.randint(0, 10**6)}\n" for n in range(20)))
        paths.append(path)
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "gen"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return paths


def _touch(paths: list[Path], count: int, rng: random.Random, tag: str) -> None:
    for path in rng.sample(paths, count):
        lines = path.read_text().splitlines(keepends=True)
        lines[3] = f"changed = '{tag}'\n"
        lines[15] = f"changed_too = '{tag}'\n"
        path.write_text("".join(lines))


def _median_ms(samples: list[float]) -> float:
    return percentile(samples, 50)


def _snapshot_ms(changes: ChangeSets, root: Path, paths: list[Path], count: int,
                 rounds: int, rng: random.Random, cold: bool = False) -> list[float]:
    samples = []
    for n in range(rounds):
        _touch(paths, count, rng, f"{count}-{n}-{cold}")
        if cold:
            changes.shadow.index_file(root).unlink(missing_ok=True)
        start = time.perf_counter()
        changes.shadow.snapshot(root, Author("user"), "bench")
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _session(store: Store, changes: ChangeSets, root: Path, paths: list[Path], files: int,
             rng: random.Random) -> SessionMeta:
    """A finished worktree session whose agent changed `files` files, two hunks each."""
    session_id = store.new_id()
    scope = changes.prepare(session_id, root, "worktree")
    meta = SessionMeta(id=session_id, status="running", working_dir=str(scope.agent_root),
                       turn=1, change_set=scope.dump())
    store.create(meta)
    changes.record(meta, 1, "pre")
    agent_paths = [scope.agent_root / p.relative_to(root) for p in paths]
    _touch(agent_paths, files, rng, "agent")
    changes.record(meta, 1, "post")
    meta.status = "completed"
    return meta


def run(tmp: Path, cfg: Config, log: LogFn) -> list[Row]:
    root = tmp / "changes-repo"
    root.mkdir(parents=True)
    log(f"changes: generating a {cfg.files}-file repository")
    paths = _make_repo(root, cfg)
    store = Store(root)
    changes = ChangeSets(store)
    rng = random.Random(cfg.seed)
    log("changes: first snapshot (hashes every file once)")
    start = time.perf_counter()
    changes.shadow.snapshot(root, Author("user"), "first")
    first_ms = (time.perf_counter() - start) * 1000
    warm10 = _snapshot_ms(changes, root, paths, 10, cfg.rounds, rng)
    warm1000 = _snapshot_ms(changes, root, paths, min(1000, cfg.files // 2), cfg.rounds, rng)
    cold10 = _snapshot_ms(changes, root, paths, 10, max(3, cfg.rounds // 3), rng, cold=True)

    log("changes: a 50-file change set, read and applied")
    meta = _session(store, changes, root, paths, 50, rng)
    reads_cold, reads_warm = [], []
    for _ in range(cfg.rounds):
        changes._cache.clear()
        start = time.perf_counter()
        view = changes.view(meta)
        reads_cold.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        changes.view(meta)
        reads_warm.append((time.perf_counter() - start) * 1000)
    hunks = [h.id for f in view.result.files for h in f.hunks][:20]

    def read(path: Path) -> bytes | None:
        return path.read_bytes() if path.exists() else None

    start = time.perf_counter()
    plan = changes.plan(meta, hunks, "apply", read)
    plan_ms = (time.perf_counter() - start) * 1000
    assert not plan.conflicts and len(plan.done) == 20, plan.conflicts
    shutil.rmtree(tmp / "changes-repo", ignore_errors=True)
    scale = f"[changes {cfg.files} files]"
    changed = min(1000, cfg.files // 2)
    return [
        Row(f"{scale} first snapshot (every file hashed once)", first_ms),
        Row(f"{scale} snapshot, 10 files changed p50 — baseline: same, index rebuilt (cold)",
            _median_ms(warm10), _median_ms(cold10)),
        Row(f"{scale} snapshot, {changed} files changed p50 — baseline: 10 files changed",
            _median_ms(warm1000), _median_ms(warm10)),
        Row(f"{scale} sessionChanges, 50-file change set, first read p50", _median_ms(reads_cold)),
        Row(f"{scale} sessionChanges, 50-file change set, cached p50 — baseline: first read",
            _median_ms(reads_warm), _median_ms(reads_cold)),
        Row(f"{scale} apply 20 hunks (plan: git apply + merge-file)", plan_ms),
    ]
