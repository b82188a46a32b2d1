"""zwarm.changes, the review's pure model: where hunks sit, quickfix items, which hunks a
line names, the next hunk to visit, signs per line, blame text, overlap warnings. Hand-made
change sets; no daemon."""

from __future__ import annotations

from tests.nvim.conftest import Nvim


def test_change_set_model(nvim: Nvim) -> None:
    r = nvim.run("changes_model.lua")["model"]

    # A pending hunk sits where it would land (old range), an applied one at its new
    # range; an empty range still names the line it points at.
    assert r["spans"] == [[2, 2], [2, 3], [5, 5], [2, 2], [2, 3], [6, 6]]

    assert [(i["filename"], i["lnum"], i["type"], i["text"]) for i in r["qf"]] == [
        ("/p/app.py", 2, "I", "[pending] aaaaaaaa t1 +2 -1 pa1"),
        ("/p/app.py", 8, "I", "[applied] aaaaaaaa t1 +2 -1 pa2"),
        ("/p/app.py", 13, "W", "[conflict] aaaaaaaa t1 +1 -0 pa3 (mixed)"),
    ]
    assert r["qf"][0]["user_data"] == {"session_id": "A", "hunk_id": "a1"}

    # Two sessions on line 2: the one under review wins, else the first by id.
    assert r["targets_nofocus"] == ["A", ["a1"]]
    assert r["targets_focus_b"] == ["B", ["b1"]]
    assert r["targets_range"] == ["A", ["a1", "a2", "a3"]]
    assert r["targets_none"] == [None, []]
    assert r["targets_result_side"] == ["A", ["a2"]]
    assert r["focus_after_reload"] == "A"

    # Only hunks that wait are visited; none past the last or before the first.
    assert r["next"] == [2, 13, None, 2, None]
    # One state per line, the most urgent; clamped to the buffer's 12 lines.
    assert r["line_states"] == ["12=conflict", "2=pending", "3=pending", "8=applied",
                                "9=applied"]

    assert [(i["filename"], i["lnum"], i["type"], i["text"]) for i in r["conflicts"]] == [
        ("/p/app.py", 13, "E", "conflict a3 overlap"),
        ("/p/b.py", 1, "E", "conflict zz fileChanged: b.py changed on disk"),
    ]
    assert r["summary"] == "zwarm: applied 1 hunk(s); skipped a2 already applied"
    assert r["latest"] == "new"
    assert r["blame"] == [{"line": 1, "text": "  codex aaaaaaaa t2"},
                          {"line": 2, "text": "  agent ? t0"}]
    assert r["overlap_none"] is None
    assert r["overlap"] == ("zwarm: cccccccc overlaps aaaaaaaa app.py:2; to stop it: "
                            ":Zwarm end cccccccc")
    assert r["after_forget"] == {"focus": None, "left": ["b1"]}
