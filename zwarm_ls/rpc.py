"""What the server and its feature modules share, below all of them: turning pygls
params back into JSON, the invalid-params error, the handler type, and the narrow view
of the server that the notifier and the orchestrator hub use (so neither imports the
server, at runtime or for types).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError
from pygls.exceptions import JsonRpcException

from .errors import INVALID_PARAMS

if TYPE_CHECKING:
    from lsprotocol import types as lsp
    from pygls.progress import Progress
    from pygls.workspace import Workspace

    from .service import SessionService

Handler = Callable[[Any], Awaitable[Any]]


def to_plain(value: Any) -> Any:
    """pygls hands custom-method params over as namedtuples; turn them back into JSON."""
    if hasattr(value, "_asdict"):
        return {k: to_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def invalid_params(exc: ValidationError) -> JsonRpcException:
    problems = []
    for err in exc.errors()[:3]:
        field = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")  # our own checks say it all
        problems.append(f"'{field}': {message}" if field else message)
    return JsonRpcException(code=INVALID_PARAMS, message="invalid params: " + "; ".join(problems),
                            data={"hint": "see the zwarm/* protocol in the README"})


class RpcChannel(Protocol):
    def notify(self, method: str, params: Any = None) -> None: ...

    def send_request_async(self, method: str, params: Any = None) -> Awaitable[Any]: ...


class ServerHost(Protocol):
    """The part of the language server that push and chat code needs."""

    @property
    def service(self) -> SessionService: ...

    @property
    def protocol(self) -> RpcChannel: ...

    @property
    def client_capabilities(self) -> lsp.ClientCapabilities: ...

    @property
    def work_done_progress(self) -> Progress: ...

    @property
    def workspace(self) -> Workspace: ...

    def window_show_message(self, params: lsp.ShowMessageParams) -> None: ...

    def window_show_message_request_async(
        self, params: lsp.ShowMessageRequestParams) -> Awaitable[lsp.MessageActionItem | None]: ...

    def workspace_code_lens_refresh(self, params: None) -> Any: ...

    def workspace_apply_edit_async(
        self, params: lsp.ApplyWorkspaceEditParams) -> Awaitable[lsp.ApplyWorkspaceEditResult]: ...
