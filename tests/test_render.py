"""The trajectory document's header: a task from a code action keeps its code block."""

from __future__ import annotations

from zwarm_ls.protocol import SessionSummary, Status
from zwarm_ls.render import render_header


def summary(task: str) -> SessionSummary:
    return SessionSummary(id="0" * 8 + "-0000-4000-8000-000000000000", short_id="00000000",
                          task=task, adapter="codex", model="gpt-5.1-codex-mini",
                          status=Status.RUNNING, turn=1, working_dir="/w",
                          created_at="2026-12-02T00:00:00+00:00",
                          updated_at="2026-12-02T00:00:00+00:00")


def test_a_one_line_task_stays_in_the_header_list() -> None:
    header = render_header(summary("write hello"))
    assert "- **task**: write hello\n" in header and "## Task" not in header


def test_a_multi_line_task_is_shown_as_written() -> None:
    task = "Work on calc.py, lines 1-3.\n\n```python\ndef add(a, b):\n    return a + b\n```"
    header = render_header(summary(task))
    assert "- **task**: Work on calc.py, lines 1-3.…" in header
    assert header.endswith("## Task\n\n" + task)
