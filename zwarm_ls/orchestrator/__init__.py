"""The orchestrator and the pilot: LLM loops over the session tools.

Modules by concern: `llm` (OpenAI Responses / Anthropic Messages clients), `history`
(provider-neutral conversation), `context` (trimming), `tools` (the LLM's tools),
`prompts`, `watchers`, `agent` (one model step), `orchestrator`, `pilot`, `lsp` (the
zwarm/* methods) and `cli` (the `orchestrate` and `pilot` subcommands).
"""

from .orchestrator import Orchestrator
from .pilot import Pilot

__all__ = ["Orchestrator", "Pilot"]
