"""zwarm/renderTrajectory: a finished session as the markdown document both editors show."""

from __future__ import annotations

from tests.lsp_helpers import request

from .test_decorations import completed_session


async def test_trajectory_document(start_client, project):
    client, session_id = await completed_session(start_client)
    doc = await request(client, "zwarm/renderTrajectory", {"sessionId": session_id[:8]})
    markdown = doc["markdown"]
    assert markdown.startswith(f"# codex session {session_id[:8]}: completed")
    assert "- **task**: write hello" in markdown and "gpt-5.1-codex-mini" in markdown
    assert "```sh\n$ echo hello > hello.txt\n```" in markdown and "exit code 0" in markdown
    assert "hello.txt` (add)" in markdown and "tokens: 1000 in (400 cached), 50 out" in markdown
