"""Editor features computed from sessions: code actions that delegate a selection or a
diagnostic, code lenses at session anchors, and the ranges agents changed (decorations
and hovers). Pure functions of the session data plus the file system; the server only
wires them to LSP methods.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from lsprotocol import types as lsp

from .costs import format_cost
from .protocol import (
    Anchor,
    Decoration,
    DelegateParams,
    Position,
    Range,
    SessionSummary,
    Status,
    Step,
)

STATUS_ICONS = {"pending": "…", "running": "▶", "completed": "✓", "failed": "✗", "killed": "■"}
OPEN_TRAJECTORY = "zwarm.openTrajectory"  # implemented by each client, not the server
ADAPTER_TITLES = {"codex": "Codex", "claude": "Claude"}


def to_range(r: lsp.Range) -> Range:
    return Range(start=Position(line=r.start.line, character=r.start.character),
                 end=Position(line=r.end.line, character=r.end.character))


def to_lsp_range(r: Range) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=r.start.line, character=r.start.character),
                     end=lsp.Position(line=r.end.line, character=r.end.character))


def _location(path: str, r: lsp.Range) -> str:
    # A linewise selection ends at column 0 of the next line, which holds none of it.
    last = r.end.line - 1 if r.end.character == 0 and r.end.line > r.start.line else r.end.line
    if r.start.line == last:
        return f"{path}, line {r.start.line + 1}"
    return f"{path}, lines {r.start.line + 1}-{last + 1}"


def selection_task(path: str, r: lsp.Range, code: str, language: str) -> str:
    return (
        f"Work on this code in {_location(path, r)}. Do what its comments (TODO, FIXME) "
        f"ask, or otherwise improve it; keep the change focused on this region and "
        f"verify it.\n\n```{language}\n{code.rstrip()}\n```"
    )


def diagnostic_task(path: str, diagnostic: lsp.Diagnostic, code: str, language: str) -> str:
    source = f" ({diagnostic.source})" if diagnostic.source else ""
    return (
        f"Fix this problem reported in {_location(path, diagnostic.range)}{source}:\n\n"
        f"{diagnostic.message}\n\nThe code there:\n\n```{language}\n{code.rstrip()}\n```\n\n"
        f"Make the smallest correct fix and verify it."
    )


def text_in_range(lines: list[str], r: lsp.Range) -> str:
    """The text a range covers (whole lines when the range ends at a line start)."""
    if not lines:
        return ""
    start, end = r.start.line, min(r.end.line, len(lines) - 1)
    if r.end.character == 0 and end > start:
        end -= 1
    return "".join(lines[start:end + 1])


def code_actions(uri: str, path: str, r: lsp.Range, lines: list[str], language: str,
                 diagnostics: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
    actions: list[lsp.CodeAction] = []
    selected = r.start != r.end
    if selected:
        code = text_in_range(lines, r)
        anchor = Anchor(uri=uri, range=to_range(r))
        for adapter, title in ADAPTER_TITLES.items():
            params = DelegateParams(task=selection_task(path, r, code, language), adapter=adapter,
                                    anchor=anchor)
            actions.append(lsp.CodeAction(
                title=f"Delegate this to {title}", kind=lsp.CodeActionKind.RefactorRewrite,
                command=lsp.Command(title=f"Delegate this to {title}", command="zwarm.delegate",
                                    arguments=[params.wire()])))
    for diagnostic in diagnostics:
        code = text_in_range(lines, diagnostic.range) or "".join(
            lines[diagnostic.range.start.line:diagnostic.range.start.line + 1])
        params = DelegateParams(task=diagnostic_task(path, diagnostic, code, language),
                                anchor=Anchor(uri=uri, range=to_range(diagnostic.range)))
        message = " ".join(diagnostic.message.split())[:60]
        actions.append(lsp.CodeAction(
            title=f"Ask an agent to fix this: {message}", kind=lsp.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            command=lsp.Command(title="Ask an agent to fix this", command="zwarm.delegate",
                                arguments=[params.wire()])))
    return actions


def lens_title(s: SessionSummary) -> str:
    parts = [f"{STATUS_ICONS.get(s.status.value, '?')} {s.adapter} {s.short_id} {s.status.value}",
             f"{s.step_count} step{'' if s.step_count == 1 else 's'}"]
    latest = s.activity if s.status.is_active and s.activity else s.latest_step
    if s.status == Status.FAILED and s.error:
        latest = s.error
    if latest:
        parts.append(" ".join(latest.split())[:60])
    if s.cost_usd is not None:
        parts.append(format_cost(s.cost_usd))
    return "zwarm: " + " · ".join(parts)


def code_lenses(uri: str, sessions: list[SessionSummary]) -> list[lsp.CodeLens]:
    lenses = []
    for s in sessions:
        if s.anchor is None or s.anchor.uri != uri:
            continue
        start = s.anchor.range.start
        lenses.append(lsp.CodeLens(
            range=lsp.Range(start=lsp.Position(line=start.line, character=0),
                            end=lsp.Position(line=start.line, character=0)),
            command=lsp.Command(title=lens_title(s), command=OPEN_TRAJECTORY,
                                arguments=[{"sessionId": s.id}]),
            data={"sessionId": s.id}))
    return lenses


@functools.lru_cache(maxsize=256)
def _git_hunks(path: str, mtime_ns: int) -> tuple[tuple[int, int], ...] | None:
    """Changed line spans (0-based, inclusive) of `path` against git HEAD; None when the
    file is not in a git work tree. Cached per file version (mtime)."""
    directory = os.path.dirname(path)
    try:
        tracked = subprocess.run(["git", "ls-files", "--error-unmatch", path], cwd=directory,
                                 capture_output=True, timeout=5)
        if tracked.returncode != 0:
            return None
        diff = subprocess.run(["git", "diff", "-U0", "--no-color", "HEAD", "--", path],
                              cwd=directory, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    spans = []
    for line in diff.stdout.splitlines():
        if line.startswith("@@"):
            new = line.split("+", 1)[1].split(" ", 1)[0]
            start, _, count = new.partition(",")
            n = int(count) if count else 1
            first = max(int(start) - 1, 0)
            spans.append((first, first + max(n, 1) - 1))
    return tuple(spans)


def changed_spans(path: str) -> list[tuple[int, int]]:
    """Where an agent's edit of `path` landed: git hunks if the file is tracked, else the
    whole file (a new or untracked file is all new)."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    hunks = _git_hunks(path, st.st_mtime_ns)
    if hunks is not None:
        return list(hunks)
    try:
        with open(path, "rb") as f:
            count = sum(1 for _ in f)
    except OSError:
        return []
    return [(0, max(count - 1, 0))]


def step_path(s: SessionSummary, file_path: str) -> str:
    return os.path.normpath(file_path if os.path.isabs(file_path)
                            else os.path.join(s.working_dir, file_path))


def decorations(path: str, sessions: list[tuple[SessionSummary, list[Step]]]) -> list[Decoration]:
    """Ranges of `path` that sessions changed, newest step last."""
    target = os.path.normpath(path)
    out: list[Decoration] = []
    for summary, steps in sessions:
        for step in steps:
            for touch in step.files or []:
                if step_path(summary, touch.path) != target or touch.change == "delete":
                    continue
                ranges = [touch.range] if touch.range else [
                    Range(start=Position(line=a, character=0), end=Position(line=b, character=0))
                    for a, b in changed_spans(target)]
                label = f"{summary.adapter} {summary.short_id} {summary.status.value}"
                hover = (f"**zwarm** — changed by {summary.adapter} session `{summary.short_id}` "
                         f"({summary.status.value}), step #{step.index}: {step.summary}\n\n"
                         f"Task: {' '.join(summary.task.split())[:200]}")
                out.extend(Decoration(range=r, session_id=summary.id, short_id=summary.short_id,
                                      status=summary.status, step_index=step.index, label=label,
                                      hover=hover) for r in ranges)
    return out


def uri_path(uri: str) -> str | None:
    from pygls.uris import to_fs_path

    path = to_fs_path(uri)
    return str(Path(path)) if path else None
