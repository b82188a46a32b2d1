"""Every kind of file change lands in the change set as git sees it — added, deleted,
renamed, binary, over the size cap — applies from a worktree, and leaves the user's own
repository (refs, index, stash) as it was. Without git, a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.lsp.changes_helpers import ORIGINAL, git, make_repo, user_repo_state
from tests.lsp_helpers import request

RENAMED = "".join(f"moved line {i}\n" for i in range(20))


def kinds_turn() -> list[dict]:
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"write": "added.txt", "text": "new\n"},
        {"delete": "gone.txt"},
        {"rename": "old_name.txt", "to": "new_name.txt"},
        {"write_bytes": "image.bin", "hex": "89504e470d0a1a0a0000ff00"},
        {"write": "big.txt", "text": "x" * 4096},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ]


def seed(project: Path) -> None:
    make_repo(project)
    (project / "gone.txt").write_text("bye\n")
    (project / "old_name.txt").write_text(RENAMED)
    git(project, "add", ".")
    git(project, "-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qm", "more")


async def finished(updates, session_id: str) -> None:
    await updates.until(lambda items: any(u.session.id == session_id and
                                          u.session.status == "completed" and
                                          u.session.changes is not None for u in items))


@pytest.mark.parametrize("isolation", ["worktree", "inplace"])
async def test_every_kind_of_file_change(start_client, project: Path, scenario,
                                         isolation: str) -> None:
    seed(project)
    before = user_repo_state(project)
    scenario(kinds_turn())
    client, updates = await start_client({"sessions": {"snapshot_max_file_mb": 0.002}})
    started = await request(client, "zwarm/delegate", {"task": "t", "isolation": isolation})
    await finished(updates, started["sessionId"])
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": started["sessionId"]})
    files = {f["relPath"]: f for f in changes["files"]}
    assert {p: f["status"] for p, f in files.items()} == {
        "added.txt": "added", "gone.txt": "deleted", "new_name.txt": "renamed",
        "image.bin": "added"}
    assert files["new_name.txt"]["oldPath"] == (project / "old_name.txt").as_uri()
    assert files["image.bin"]["binary"] is True
    assert {"path": "big.txt", "reason": "larger than the 0.002 MB snapshot cap"} in \
        changes["skipped"]
    if isolation == "worktree":
        assert user_repo_state(project) == before  # nothing reached the user's files yet
        result = await request(client, "zwarm/applyChanges",
                               {"sessionId": started["sessionId"]})
        assert result["conflicts"] == [] and len(result["applied"]) == 4
    assert (project / "added.txt").read_text() == "new\n"
    assert not (project / "gone.txt").exists() and not (project / "old_name.txt").exists()
    assert (project / "new_name.txt").read_text() == RENAMED
    assert (project / "image.bin").read_bytes() == bytes.fromhex("89504e470d0a1a0a0000ff00")
    after = user_repo_state(project)
    assert (after["head"], after["stash"], after["index"]) == \
        (before["head"], before["stash"], before["index"])


async def test_without_git_a_worktree_delegate_is_a_clear_error(start_client, project: Path,
                                                                scenario, monkeypatch) -> None:
    (project / "code.py").write_text(ORIGINAL)
    bin_dir = Path(os.environ["PATH"].split(os.pathsep)[0])  # the fake CLIs, no git
    monkeypatch.setenv("PATH", str(bin_dir))
    client, _ = await start_client()
    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/delegate", {"task": "t", "isolation": "inplace"})
    assert "git was not found" in err.value.message
    assert not (project / ".zwarm" / "sessions").exists() or \
        not any((project / ".zwarm" / "sessions").iterdir())
