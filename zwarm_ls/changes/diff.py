"""A change set read from git: `git diff -U0` between two snapshots, split into files and
hunks. Git computes the diff; this module only reads git's output into records (the
`@@` headers and the +/- lines), and can hand chosen hunks back to `git apply`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .shadow import Shadow

HUNK_HEADER = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
STATUS = {"A": "added", "D": "deleted", "M": "modified", "R": "renamed", "C": "added",
          "T": "modified"}


@dataclass
class RawHunk:
    id: str
    path: str
    old_start: int  # 0-based first changed line (the insertion point when old_count is 0)
    old_count: int
    new_start: int
    new_count: int
    old_lines: list[str]
    new_lines: list[str]
    patch: bytes  # the hunk as git printed it, for `git apply`
    whole_file: bool = False  # binary, rename-only or mode-only: one hunk for the file


@dataclass
class RawFile:
    path: str
    old_path: str | None
    status: str
    binary: bool
    header: bytes
    hunks: list[RawHunk] = field(default_factory=list)


def _zero_based(start: int, count: int) -> int:
    # git's `-a,0` means "after line a", i.e. before the 0-based line a.
    return start if count == 0 else start - 1


def hunk_id(path: str, old: tuple[int, int], new: tuple[int, int], body: bytes) -> str:
    digest = hashlib.sha1(f"{path}\0{old}\0{new}\0".encode() + body)
    return digest.hexdigest()[:12]


def _name_status(shadow: Shadow, base: str, result: str,
                 paths: list[str] | None) -> list[tuple[str, str, str | None]]:
    raw = shadow.run(["diff", "--name-status", "-z", "-M",
                      base, result, "--", *(paths or [])]).stdout.split(b"\0")
    entries: list[tuple[str, str, str | None]] = []
    i = 0
    while i < len(raw) and raw[i]:
        code = raw[i].decode()[0]
        if code in "RC":
            old, new = raw[i + 1].decode(errors="surrogateescape"), \
                raw[i + 2].decode(errors="surrogateescape")
            entries.append((STATUS[code], new, old if code == "R" else None))
            i += 3
        else:
            entries.append((STATUS.get(code, "modified"),
                            raw[i + 1].decode(errors="surrogateescape"), None))
            i += 2
    return entries


def _split_blocks(patch: bytes) -> list[bytes]:
    blocks, current = [], bytearray()
    for line in patch.splitlines(keepends=True):
        if line.startswith(b"diff --git ") and current:
            blocks.append(bytes(current))
            current = bytearray()
        current += line
    if current:
        blocks.append(bytes(current))
    return blocks


def _parse_block(block: bytes, path: str, old_path: str | None, status: str) -> RawFile:
    lines = block.splitlines(keepends=True)
    first_hunk = next((i for i, line in enumerate(lines) if line.startswith(b"@@ ")), len(lines))
    header = b"".join(lines[:first_hunk])
    binary = b"GIT binary patch" in header or b"\nBinary files " in b"\n" + header
    record = RawFile(path, old_path, status, binary, header)
    if binary or first_hunk == len(lines):
        body = b"".join(lines)
        record.hunks.append(RawHunk(hunk_id(path, (0, 0), (0, 0), body), path, 0, 0, 0, 0, [],
                                    [], b"", whole_file=True))
        return record
    starts = [i for i in range(first_hunk, len(lines)) if lines[i].startswith(b"@@ ")]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        match = HUNK_HEADER.match(lines[start])
        if match is None:
            continue
        a, b = int(match[1]), int(match[2]) if match[2] is not None else 1
        c, d = int(match[3]), int(match[4]) if match[4] is not None else 1
        body = lines[start + 1:end]
        text = [ln.decode(errors="replace") for ln in body]
        patch = b"".join(lines[start:end])
        record.hunks.append(RawHunk(
            id=hunk_id(path, (a, b), (c, d), b"".join(body)), path=path,
            old_start=_zero_based(a, b), old_count=b, new_start=_zero_based(c, d), new_count=d,
            old_lines=[t[1:] for t in text if t.startswith("-")],
            new_lines=[t[1:] for t in text if t.startswith("+")], patch=patch))
    return record


def diff(shadow: Shadow, base: str, result: str, paths: list[str] | None = None) -> list[RawFile]:
    """The files and hunks that differ between two snapshot commits."""
    entries = _name_status(shadow, base, result, paths)
    if not entries:
        return []
    patch = shadow.run(["diff", "-U0", "--no-color", "--no-ext-diff", "--histogram", "-M",
                        "--binary", "--full-index", base, result, "--", *(paths or [])]).stdout
    blocks = _split_blocks(patch)
    return [_parse_block(block, path, old, status)
            for block, (status, path, old) in zip(blocks, entries, strict=False)]


def patch_for(files: list[RawFile], chosen: set[str]) -> bytes:
    """A patch holding only the chosen hunks (file headers kept), for `git apply`."""
    out = bytearray()
    for f in files:
        picked = [h for h in f.hunks if h.id in chosen]
        if not picked:
            continue
        if picked[0].whole_file:
            out += f.header
            continue
        out += f.header + b"".join(h.patch for h in picked)
    return bytes(out)
