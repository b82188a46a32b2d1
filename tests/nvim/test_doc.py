"""doc/zwarm.txt: valid help tags for every command, option, highlight group and key."""

from __future__ import annotations

import shutil

from tests.nvim.conftest import PLUGIN, Nvim

DOC = PLUGIN / "doc" / "zwarm.txt"


def test_help_has_a_tag_for_everything_the_plugin_defines(nvim: Nvim) -> None:
    copy = nvim.tmp / "plugin-doc" / "doc"
    copy.mkdir(parents=True)
    shutil.copy(DOC, copy)  # :helptags writes `tags` next to it; keep the repo clean
    result = nvim.run("doc.lua", ZWARM_DOC_COPY=str(copy))

    tags = {line.split("\t")[0] for line in result["tags"]}
    assert {"zwarm", "zwarm.txt", "zwarm-setup", "zwarm-options", "zwarm-health",
            ":Zwarm", "zwarm-inline", "zwarm-trajectory", "zwarm-notifications",
            "zwarm-review", "zwarm-]z", "zwarm-[z", "ZwarmChangesUpdated",
            "ZwarmReviewed"} <= tags
    missing = (
        [f":Zwarm-{name}" for name in result["subcommands"]]
        # `cmd` and `default_adapter` default to nil, so they are not keys of the defaults.
        + [f"zwarm-option-{name}" for name in [*result["options"], "cmd", "default_adapter"]]
        + [f"hl-{group}" for group in result["highlights"]]
        + [f"zwarm-trajectory-{key}" for key in result["keys"]]
    )
    missing = [tag for tag in missing if tag not in tags]
    assert not missing, f"doc/zwarm.txt has no tag for {missing}"
    assert result["help_buffer"].endswith("/zwarm.txt") and "End the session" in result["help_line"]

    text = DOC.read_text()
    assert "Neovim 0.10 or newer" in text
    assert text.rstrip().endswith("vim:tw=78:ts=8:noet:ft=help:norl:")
