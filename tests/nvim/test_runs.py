"""`:Zwarm runs`: the project's orchestrator runs from `zwarm/listRuns` (one made by
`zwarm-ls orchestrate` against the scripted model server, one whose process died), and
`<CR>` opening a run's steps, `R` resuming the interrupted one in the daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.fakes.model_server import ScriptedModelServer
from tests.nvim.conftest import Nvim
from tests.orchestrator.conftest import call, calls, write_config

STALE = "20200101-000000-abcdef"


def test_runs_list_open_and_resume(nvim: Nvim) -> None:
    # The editor's daemon talks to the model server too (to resume): trust the project.
    config_dir = nvim.tmp / "home" / ".config" / "zwarm-ls"
    config_dir.mkdir(parents=True)
    (config_dir / "trusted.toml").write_text(f"folders = [{json.dumps(str(nvim.project))}]\n")
    with ScriptedModelServer([calls(call("list_sessions")),
                              calls(call("exit", message="listed and done")),
                              calls(call("exit", message="resumed from nvim"))]) as server:
        write_config(nvim.project, "openai", server)
        out = subprocess.run(
            [sys.executable, "-m", "zwarm_ls.cli", "orchestrate", "survey the project",
             "--root", str(nvim.project), "--json"], capture_output=True, text=True,
            timeout=120, env={**os.environ, **nvim.env, "ZWARM_TEST_KEY": "k"})
        assert out.returncode == 0, out.stderr
        run_id = json.loads(out.stdout.splitlines()[-1])["runId"]
        stale = nvim.project / ".zwarm" / "orchestrator" / STALE / "run.json"
        stale.parent.mkdir(parents=True)
        stale.write_text(json.dumps({
            "run_id": STALE, "task": "an old\ntask", "status": "running", "max_steps": 50,
            "step_count": 3, "pid": 2 ** 22 + 1, "start_ticks": 1,
            "created_at": "2020-01-01T00:00:00+00:00",
            "updated_at": "2020-01-01T00:00:00+00:00"}))

        result = nvim.run("runs.lua", ZWARM_RUN_ID=run_id, ZWARM_STALE_RUN=STALE,
                          ZWARM_TEST_KEY="k")
        assert len(server.model_requests()) == 3  # the run, then the resumed one

    assert result["name"].endswith("zwarm://runs") and result["modifiable"] is False
    assert result["count"] == 2
    rows = [ln for ln in result["lines"] if ln.startswith(("2", STALE))]
    assert rows[0].startswith(run_id) and "exited" in rows[0] and "2/50" in rows[0]
    assert rows[0].endswith("survey the project")
    assert rows[1].startswith(STALE) and "interrupted" in rows[1]
    assert rows[1].endswith("an old task")
    assert any("--resume RUN" in ln for ln in result["lines"])
    assert result["opened"] == run_id
    assert result["run_name"].endswith(f"zwarm://orchestrator/{run_id}")
    shown = "\n".join(result["run_lines"])
    assert shown.startswith(f"# orchestrator {run_id}: exited")
    assert "list_sessions" in shown and "listed and done" in shown
    resumed = "\n".join(result["resumed_lines"])
    assert resumed.startswith(f"# orchestrator {STALE}: exited")
    assert "resumed after it was interrupted" in resumed
    assert resumed.count("resumed from nvim") == 1  # streamed steps are not doubled
    assert any(ln.startswith(STALE) and "exited" in ln for ln in result["refreshed"])
