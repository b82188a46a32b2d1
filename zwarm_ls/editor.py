"""Editor features computed from sessions: code actions that delegate a selection or a
diagnostic, code lenses at session anchors, and the ranges agents changed (decorations
and hovers). Pure functions of the session data plus the file system; the server only
wires them to LSP methods.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from lsprotocol import types as lsp

from .costs import format_cost
from .protocol import (
    Anchor,
    BlameLine,
    Decoration,
    DelegateParams,
    Position,
    Range,
    SessionChangesResult,
    SessionSummary,
    Status,
)
from .render import STATUS_ICONS

OPEN_TRAJECTORY = "zwarm.openTrajectory"  # implemented by each client, not the server
OPEN_CHANGES = "zwarm.openChanges"  # likewise: shows a session's change set
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


LANGUAGES = {
    ".py": "python", ".pyi": "python", ".ts": "typescript", ".tsx": "typescriptreact",
    ".js": "javascript", ".jsx": "javascriptreact", ".mjs": "javascript", ".lua": "lua",
    ".rs": "rust", ".go": "go", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".hpp": "cpp", ".java": "java", ".rb": "ruby", ".sh": "shellscript", ".md": "markdown",
    ".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".html": "html",
    ".css": "css", ".vim": "vim", ".kt": "kotlin", ".swift": "swift", ".cs": "csharp",
}


def language_of(path: str | Path) -> str:
    """The language id for a file name, the same for every editor: task text for a
    selection must not depend on which editor sent it."""
    return LANGUAGES.get(Path(path).suffix.lower(), "")


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
    if s.changes is not None and not s.changes.known:
        parts.append("changes unknown")
    elif s.changes is not None and s.changes.pending + s.changes.conflict:
        count = s.changes.pending + s.changes.conflict
        parts.append(f"{count} hunk{'' if count == 1 else 's'} to review")
    for other in {o.short_id for o in s.overlaps}:
        parts.append(f"⚠ overlaps {other}")
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
        if s.changes is not None and s.changes.files:
            lenses.append(lsp.CodeLens(
                range=lenses[-1].range,
                command=lsp.Command(title="Review", command=OPEN_CHANGES,
                                    arguments=[{"sessionId": s.id}])))
    return lenses


def decorations(blame: list[BlameLine],
                summaries: dict[str, SessionSummary]) -> list[Decoration]:
    """Runs of lines that one agent turn wrote (blame on the change sets' history), as
    decorations; the user's own lines get none. Ranges cover whole lines, end inclusive."""
    out: list[Decoration] = []
    run: list[BlameLine] = []

    def flush() -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        summary = summaries.get(first.session_id or "")
        if summary is not None:
            out.append(_decoration(summary, first.turn or 1, first.line, last.line))
        run.clear()

    for line in blame:
        same = run and line.session_id == run[-1].session_id and line.turn == run[-1].turn \
            and line.line == run[-1].line + 1
        if not same:
            flush()
        if line.author == "agent" and line.session_id:
            run.append(line)
    flush()
    return out


def _decoration(s: SessionSummary, turn: int, first: int, last: int) -> Decoration:
    label = f"{s.adapter} {s.short_id} turn {turn} {s.status.value}"
    hover = (f"**zwarm** — written by {s.adapter} session `{s.short_id}` ({s.status.value}), "
             f"turn {turn}\n\nTask: {' '.join(s.task.split())[:200]}\n\n"
             f"[Trajectory](command:{OPEN_TRAJECTORY}?{_command_arg(s.id)}) · "
             f"[Changes](command:{OPEN_CHANGES}?{_command_arg(s.id)})")
    return Decoration(range=Range(start=Position(line=first, character=0),
                                  end=Position(line=last, character=0)),
                      session_id=s.id, short_id=s.short_id, status=s.status, turn=turn,
                      state="applied", label=label, hover=hover)


def _command_arg(session_id: str) -> str:
    return urllib.parse.quote(json.dumps([{"sessionId": session_id}]))


def hunk_lenses(session: SessionSummary, changes: SessionChangesResult,
                uri: str) -> list[lsp.CodeLens]:
    """Accept / Reject on each pending hunk of `uri` (server commands, so every client
    runs them), placed where the hunk lands in the user's file."""
    lenses: list[lsp.CodeLens] = []
    for f in changes.files:
        if f.path != uri:
            continue
        for h in f.hunks:
            if h.state not in ("pending", "conflict"):
                continue
            at = lsp.Range(start=lsp.Position(line=h.old_range.start.line, character=0),
                           end=lsp.Position(line=h.old_range.start.line, character=0))
            args = [{"sessionId": session.id, "hunkIds": [h.id]}]
            tag = " (conflict)" if h.state == "conflict" else ""
            title = f"zwarm {session.adapter} {session.short_id}: +{h.added} -{h.removed}{tag}"
            lenses += [
                lsp.CodeLens(range=at, command=lsp.Command(title=title, command=OPEN_CHANGES,
                                                           arguments=[{"sessionId": session.id}])),
                lsp.CodeLens(range=at, command=lsp.Command(title="✓ Accept",
                                                           command="zwarm.applyChanges",
                                                           arguments=args)),
                lsp.CodeLens(range=at, command=lsp.Command(title="✗ Reject",
                                                           command="zwarm.discardChanges",
                                                           arguments=args)),
            ]
    return lenses


def uri_path(uri: str) -> str | None:
    from pygls.uris import to_fs_path

    path = to_fs_path(uri)
    return str(Path(path)) if path else None
