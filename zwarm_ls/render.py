"""Sessions and steps as text: the markdown trajectory document (both editors), the
terminal lines of the CLIs, and their one `--json` shape (one bare model per line)."""

from __future__ import annotations

import json
from typing import Any

from .costs import format_cost
from .models import ModelInfo
from .protocol import Model, SessionSummary, Step

OUTPUT_LINES = 40
STATUS_ICONS = {"pending": "…", "running": "▶", "completed": "✓", "failed": "✗", "killed": "■"}


def _fence(text: str, lang: str = "") -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _cap(text: str, full: bool) -> str:
    lines = text.rstrip().splitlines()
    if full or len(lines) <= OUTPUT_LINES:
        return "\n".join(lines)
    return "\n".join(lines[:OUTPUT_LINES]) + f"\n… ({len(lines) - OUTPUT_LINES} more lines)"


def render_header(s: SessionSummary) -> str:
    u = s.usage
    lines = [
        f"# {s.adapter} session {s.short_id}: {s.status.value}",
        "",
        f"- **task**: {first_line(s.task)}",
        f"- **adapter / model**: {s.adapter} / {s.model}",
        f"- **status**: {s.status.value}" + (f" (exit code {s.exit_code})"
                                             if s.exit_code is not None else ""),
        f"- **turns**: {s.turn}  **steps**: {s.step_count}",
        f"- **tokens**: {u.input_tokens} in ({u.cached_input_tokens} cached), "
        f"{u.output_tokens} out",
        f"- **cost**: {format_cost(s.cost_usd)}",
        f"- **working dir**: `{s.working_dir}`",
        f"- **id**: `{s.id}`",
    ]
    if s.activity:
        lines.append(f"- **now**: {s.activity}")
    if s.error:
        lines += ["", f"> **error**: {s.error}"]
    if "\n" in s.task.strip():
        # Tasks from code actions carry the selected code as a fenced block: show them
        # as written, not folded into one line.
        lines += ["", "## Task", "", _cap(s.task.strip(), full=False)]
    return "\n".join(lines)


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    more = "…" if len(line) > limit or "\n" in text.strip() else ""
    return line[:limit] + more


def render_step(step: Step, full: bool = True) -> str:
    detail = step.detail or ""
    head = f"**#{step.index}**"
    if step.kind == "message":
        return f"{head} 💬 **agent**\n\n{detail or step.summary}"
    if step.kind == "reasoning":
        quoted = "\n".join("> " + ln for ln in (detail or step.summary).splitlines())
        return f"{head} 🤔 *reasoning*\n\n{quoted}"
    if step.kind == "command":
        code = "" if step.exit_code is None else f" → exit code {step.exit_code}"
        command, _, output = detail.partition("\n") if detail else (step.summary, "", "")
        out = f"\n\n{_fence(_cap(output, full), 'text')}" if output.strip() else ""
        return f"{head} ⚙️ **command**{code}\n\n{_fence(command, 'sh')}{out}"
    if step.kind == "file_change":
        files = "\n".join(f"- `{f.path}`" + (f" ({f.change})" if f.change else "")
                          for f in step.files or [])
        return f"{head} ✏️ **file change**: {step.summary}\n\n{files}"
    if step.kind in ("tool_call", "tool_result"):
        label = "🔧 **tool call**" if step.kind == "tool_call" else "📤 **tool result**"
        code = "" if step.exit_code is None else f" (exit code {step.exit_code})"
        body = f"\n\n{_fence(_cap(detail, full))}" if detail and detail != step.summary else ""
        return f"{head} {label}{code}: {step.summary}{body}"
    if step.kind == "error":
        code = "" if step.exit_code is None else f" (exit code {step.exit_code})"
        body = f"\n\n{_fence(_cap(detail, full))}" if detail and detail != step.summary else ""
        return f"{head} ❌ **error**{code}: {step.summary}{body}"
    if step.kind == "usage":
        return f"{head} 📊 *{step.summary}*"
    return f"{head} ❔ *{step.summary}*\n\n{_fence(_cap(detail, full), 'json')}"


def render_trajectory(summary: SessionSummary, steps: list[Step], full: bool = True) -> str:
    parts = [render_header(summary)]
    turn = 0
    for step in steps:
        if step.turn != turn:
            turn = step.turn
            parts.append(f"## Turn {turn}")
        parts.append(render_step(step, full))
    if not steps:
        parts.append("_No steps yet._")
    return "\n\n".join(parts) + "\n"


def print_json(model: Model | dict) -> None:
    """The `--json` output of every CLI verb: one bare model (or step) per line. Errors
    too: `{"error": {"code", "message", "hint"}}`."""
    print(json.dumps(model.wire() if isinstance(model, Model) else model), flush=True)


def format_tokens(count: int) -> str:
    """12345 → '12.3k': wide enough for a column, exact enough to compare sessions."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


SESSION_COLUMNS = "id        status      adapter turn steps   tokens     cost  task"


def format_session(s: SessionSummary) -> str:
    flag = " !" if s.needs_attention else ""
    task = " ".join(s.task.split())[:50]
    return (f"{s.short_id}  {STATUS_ICONS.get(s.status, '?')} {s.status:<9} {s.adapter:<7} "
            f"t{s.turn:<3} {s.step_count:>5} {format_tokens(s.usage.total_tokens):>8} "
            f"{format_cost(s.cost_usd):>8}  {task}{flag}")


def format_live(sessions: list[SessionSummary]) -> list[str]:
    """The live watch view: one line per session and what it is doing right now."""
    lines = [SESSION_COLUMNS]
    for s in sessions:
        lines.append(format_session(s))
        now = s.activity or s.latest_step or s.latest_message
        if now:
            lines.append(f"          └ {first_line(now, 100)}")
    return lines


def format_conversation(messages: list[dict[str, Any]]) -> list[str]:
    """Every turn of a session as it was said: the user's message, then the replies."""
    lines: list[str] = []
    turn = None
    for m in messages:
        this_turn = (m.get("metadata") or {}).get("turn")
        if this_turn is not None and this_turn != turn:
            turn = this_turn
            lines += ["", f"── turn {turn} ──"]
        content = str(m.get("content") or "").rstrip()
        lines.append(f"{m.get('role', '?')}: {content}")
    return lines


def format_model_rows(rows: list[ModelInfo]) -> list[str]:
    lines = [f"{'adapter':<8}{'model':<22}{'context':>8}{'$in/M':>8}{'$out/M':>8}  aliases"]
    for m in rows:
        name = m.name + ("*" if m.default else "")
        lines.append(f"{m.adapter:<8}{name:<22}{m.context_window // 1000:>7}k"
                     f"{m.price.input:>8.2f}{m.price.output:>8.2f}  {', '.join(m.aliases)}")
    lines.append("* the adapter's default model")
    return lines


def model_wire(m: ModelInfo) -> dict[str, Any]:
    return {"name": m.name, "adapter": m.adapter, "aliases": list(m.aliases),
            "contextWindow": m.context_window, "default": m.default,
            "description": m.description,
            "price": {"input": m.price.input, "output": m.price.output,
                      "cachedInput": m.price.cached_input}}


def format_step(step: Step, full: bool = False) -> str:
    code = f" (exit {step.exit_code})" if step.exit_code is not None else ""
    line = f"#{step.index:<4} t{step.turn} {step.kind:<11} {step.summary}{code}"
    if full and step.detail and step.detail != step.summary:
        body = "\n".join("      " + ln for ln in step.detail.splitlines())
        line += "\n" + body
    return line
