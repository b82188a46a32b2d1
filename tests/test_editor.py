"""Task text for "Delegate this": the lines it names are the lines it quotes."""

from __future__ import annotations

from lsprotocol import types as lsp

from zwarm_ls.editor import selection_task


def span(start: tuple[int, int], end: tuple[int, int]) -> lsp.Range:
    return lsp.Range(start=lsp.Position(*start), end=lsp.Position(*end))


def test_a_selection_ending_at_column_0_does_not_name_the_next_line() -> None:
    assert "calc.py, lines 1-3." in selection_task("calc.py", span((0, 0), (3, 0)), "x", "py")


def test_a_selection_ending_inside_a_line_names_that_line() -> None:
    assert "calc.py, lines 1-4." in selection_task("calc.py", span((0, 0), (3, 2)), "x", "py")
    assert "calc.py, line 2." in selection_task("calc.py", span((1, 0), (2, 0)), "x", "py")
