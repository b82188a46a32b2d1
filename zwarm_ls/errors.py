"""Errors written for the person who reads them in the editor.

Each carries a JSON-RPC error code and a hint; the server turns them into
`ResponseError`s, the CLI prints them, the orchestrator returns them to the LLM.
"""

from __future__ import annotations

INVALID_PARAMS = -32602
SESSION_NOT_FOUND = -32001
SESSION_AMBIGUOUS = -32002
SESSION_STATE = -32003
EXECUTOR_MISSING = -32004
POLICY = -32005
STORE = -32006


class ZwarmError(Exception):
    """Base of every error the service reports on purpose."""

    code = STORE

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def data(self) -> dict:
        return {"hint": self.hint} if self.hint else {}


class InvalidParams(ZwarmError):
    code = INVALID_PARAMS


class SessionNotFound(ZwarmError):
    code = SESSION_NOT_FOUND


class AmbiguousSession(ZwarmError):
    code = SESSION_AMBIGUOUS


class SessionStateError(ZwarmError):
    code = SESSION_STATE


class ExecutorMissing(ZwarmError):
    code = EXECUTOR_MISSING


class PolicyViolation(ZwarmError):
    code = POLICY


class StoreError(ZwarmError):
    code = STORE
