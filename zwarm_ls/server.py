"""The language server: LSP and `zwarm/*` methods mapped onto the session service.

Thin on purpose. Each handler validates params with the protocol models, calls the
service or an editor-feature function, and returns the model's wire form. Errors become
JSON-RPC errors with a message and a hint; nothing here blocks the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hmac
import logging
import os
import resource
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException
from pygls.io_ import run_async
from pygls.lsp.server import LanguageServer

from . import __version__, editor
from .config import load_config
from .errors import INVALID_PARAMS, ZwarmError
from .lsp_editor import LspEditor
from .notifications import SessionNotifier
from .orchestrator.lsp import REQUESTS as HUB_REQUESTS
from .orchestrator.lsp import Hub
from .protocol import (
    ApplyChangesParams,
    BlameParams,
    CleanParams,
    ConverseParams,
    DecorationsParams,
    DecorationsResult,
    DelegateParams,
    DiscardChangesParams,
    EndParams,
    FileContentParams,
    ListParams,
    Model,
    RenderParams,
    RenderResult,
    SessionChangesParams,
    SessionRef,
    Status,
    TrajectoryParams,
    WaitParams,
)
from .render import render_trajectory
from .rpc import Handler, invalid_params, to_plain
from .service import SessionService
from .transport import (
    TOKEN_ENV,
    GuardedReader,
    PipeReader,
    RawJsonProtocol,
    StdinReader,
    TcpHost,
    ThreadedWriter,
    TokenError,
    copy_features,
    read_token,
)

log = logging.getLogger(__name__)

REVIEW_LENS_SESSIONS = 20  # sessions with hunks to review that get per-hunk lenses
SHUTDOWN_LIMIT_S = 15.0
GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython: 700)


class ZwarmServer(LanguageServer):
    def __init__(self, root: Path | None = None, token: str | None = None):
        super().__init__("zwarm-ls", __version__,
                         text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                         protocol_cls=RawJsonProtocol)
        self.root_override = root
        self.token = token
        self.authorized = token is None
        self._service: SessionService | None = None
        self.notifier = SessionNotifier(self)
        self.hub = Hub(self)  # this server's orchestrator runs and pilots

    @property
    def service(self) -> SessionService:
        if self._service is None:
            raise JsonRpcException(code=-32002, message="zwarm-ls is not initialized yet")
        return self._service

    def _start_io_async(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls' stdio loop, reading through the size and params guards."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(ThreadedWriter(stdout or sys.stdout.buffer))
        stdin = stdin or sys.stdin.buffer

        async def serve() -> None:
            inner = await PipeReader.connect(stdin) or StdinReader(stdin, self.thread_pool)
            await run_async(stop_event=self._stop_event, reader=GuardedReader(inner, self.protocol),
                            protocol=self.protocol, logger=log,
                            error_handler=self.report_server_error)

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            log.error("the client went away; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    async def end_connection(self) -> None:
        """This server's TCP client left: its orchestrator runs and its service stop (the
        agents and their sessions go on; the next client sees them)."""
        self.authorized = False
        for task in list(self.hub.tasks):
            task.cancel()
        service, self._service = self._service, None
        if service is not None:
            await service.stop()

    def report_server_error(self, error: Exception, source: Any) -> None:
        log.error("server error (%s): %s", getattr(source, "__name__", source), error)

    async def call(self, model: type[BaseModel], params: Any,
                   handler: Callable[[Any], Awaitable[Any]]) -> Any:
        """Validate `params` into `model`, run `handler`, return the wire result."""
        if not self.authorized:
            raise JsonRpcException(code=-32600, message="unauthorized: wrong or missing token")
        plain = to_plain(params)
        if plain is None:
            plain = {}
        if not isinstance(plain, dict):
            raise JsonRpcException(code=INVALID_PARAMS,
                                   message="invalid params: expected an object")
        try:
            parsed = model.model_validate(plain)
        except ValidationError as exc:
            raise invalid_params(exc) from None
        try:
            await self.service.wait_ready()
            result = await handler(parsed)
        except ZwarmError as exc:
            raise JsonRpcException(code=exc.code, message=exc.message, data=exc.data()) from None
        return result.wire() if isinstance(result, Model) else result


server = ZwarmServer()


def _workspace_root(ls: ZwarmServer, params: lsp.InitializeParams) -> Path:
    if ls.root_override:
        return ls.root_override
    from pygls.uris import to_fs_path

    for uri in [*(f.uri for f in params.workspace_folders or []), params.root_uri]:
        path = to_fs_path(uri) if uri else None
        if path:
            return Path(path)
    return Path(params.root_path) if params.root_path else Path.cwd()


@server.feature(lsp.INITIALIZE)
def on_initialize(ls: ZwarmServer, params: lsp.InitializeParams) -> None:
    options = to_plain(params.initialization_options) or {}
    if not isinstance(options, dict):
        options = {}
    if ls.token is not None:
        given = options.pop("token", None)
        ls.authorized = isinstance(given, str) and hmac.compare_digest(given.encode(),
                                                                       ls.token.encode())
        if not ls.authorized:
            raise JsonRpcException(code=-32600, message="unauthorized: wrong or missing token")
    options.pop("token", None)
    config, warnings = load_config(_workspace_root(ls, params), options)
    ls._service = SessionService(config)
    ls.notifier.pending_warnings = warnings


@server.feature(lsp.INITIALIZED)
async def on_initialized(ls: ZwarmServer, _params: lsp.InitializedParams) -> None:
    svc = ls.service
    svc.review.editor = LspEditor(ls)
    await svc.start()
    svc.subscribe(ls.notifier.on_update)
    svc.review.subscribe(ls.notifier.on_changes)
    await ls.notifier.start()
    settle_garbage_collector()


def settle_garbage_collector() -> None:
    """What start-up built (modules, the index of every session) lives as long as the
    daemon: move it out of the collector's sight, and collect the young generation less
    often, so a full collection does not walk it all while sessions stream (a pause of
    tens of ms in the middle of a burst of notifications)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


@server.feature(lsp.SHUTDOWN)
async def on_shutdown(ls: ZwarmServer, _params: Any) -> None:
    """Stop following the store; the answer comes within SHUTDOWN_LIMIT_S whatever the
    bookkeeping still in flight (the agents and their runners go on regardless)."""
    if ls._service:
        try:
            async with asyncio.timeout(SHUTDOWN_LIMIT_S):
                await ls._service.stop()
        except TimeoutError:
            log.warning("shutdown: background work still running after %.0f s; leaving it",
                        SHUTDOWN_LIMIT_S)


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
def on_configuration(ls: ZwarmServer, params: lsp.DidChangeConfigurationParams) -> None:
    settings = to_plain(params.settings)
    if not isinstance(settings, dict) or ls._service is None:
        return
    settings = settings.get("zwarm", settings)
    if not isinstance(settings, dict):
        ls.notifier.warn(["client settings: 'zwarm' must be an object; ignored"])
        return
    config, warnings = load_config(ls.service.config.root, settings)
    ls.service.config = config
    ls.notifier.warn(warnings)


def _render(svc: SessionService) -> Callable[[RenderParams], Awaitable[RenderResult]]:
    async def render(p: RenderParams) -> RenderResult:
        session_id = svc.resolve(p.session_id)
        traj = await svc.trajectory(TrajectoryParams(session_id=session_id, full=True))
        summary = svc.index.summary(session_id)
        return RenderResult(session_id=session_id,
                            markdown=render_trajectory(summary, traj.steps, p.full))
    return render


def _decorations(svc: SessionService) -> Callable[[DecorationsParams],
                                                   Awaitable[DecorationsResult]]:
    async def decorations(p: DecorationsParams) -> DecorationsResult:
        if editor.uri_path(p.uri) is None or not p.uri.startswith("file:"):
            return DecorationsResult(uri=p.uri, decorations=[])
        blame = await svc.review.blame(BlameParams(uri=p.uri))
        summaries = {s.id: s for s in svc.index.summaries()}
        return DecorationsResult(uri=p.uri, decorations=editor.decorations(blame.lines, summaries))
    return decorations


HandlerFor = Callable[["ZwarmServer"], Handler]

REQUESTS: dict[str, tuple[type[BaseModel], HandlerFor]] = {
    "delegate": (DelegateParams, lambda ls: ls.service.delegate),
    "converse": (ConverseParams, lambda ls: ls.service.converse),
    "peekSession": (SessionRef, lambda ls: ls.service.peek),
    "checkSession": (SessionRef, lambda ls: ls.service.check),
    "getTrajectory": (TrajectoryParams, lambda ls: ls.service.trajectory_json),
    "listSessions": (ListParams, lambda ls: ls.service.list_json),
    "endSession": (EndParams, lambda ls: ls.service.end),
    "waitForSessions": (WaitParams, lambda ls: ls.service.wait),
    "cleanSessions": (CleanParams, lambda ls: ls.service.clean),
    "renderTrajectory": (RenderParams, lambda ls: _render(ls.service)),
    "decorations": (DecorationsParams, lambda ls: _decorations(ls.service)),
    "sessionChanges": (SessionChangesParams, lambda ls: ls.service.review.session_changes),
    "applyChanges": (ApplyChangesParams, lambda ls: ls.service.review.apply_changes),
    "discardChanges": (DiscardChangesParams, lambda ls: ls.service.review.discard_changes),
    "fileContent": (FileContentParams, lambda ls: ls.service.review.file_content),
    "blame": (BlameParams, lambda ls: ls.service.review.blame),
}


def register_request(name: str, model: type[BaseModel], handler_for: HandlerFor) -> None:
    """Serve `zwarm/<name>` and the command `zwarm.<name>` (params as its one argument)."""
    async def request(ls: ZwarmServer, params: Any) -> Any:
        return await ls.call(model, params, lambda p: handler_for(ls)(p))

    async def command(ls: ZwarmServer, *args: Any) -> Any:
        return await ls.call(model, args[0] if args else {}, lambda p: handler_for(ls)(p))

    request.__name__ = f"zwarm_{name}"
    command.__name__ = f"zwarm_cmd_{name}"
    server.feature(f"zwarm/{name}")(request)
    server.command(f"zwarm.{name}")(command)


def _hub_handler(pick: Callable[[Hub], Handler]) -> HandlerFor:
    return lambda ls: pick(ls.hub)


# zwarm/orchestrate, zwarm/orchestratorTrajectory, zwarm/pilot, zwarm/pilotHistory and
# zwarm/pilotGoto are served by the server's orchestrator hub.
for _name, (_model, _handler_for) in REQUESTS.items():
    register_request(_name, _model, _handler_for)
for _name, (_model, _pick) in HUB_REQUESTS.items():
    register_request(_name, _model, _hub_handler(_pick))


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix,
                                             lsp.CodeActionKind.RefactorRewrite]),
)
def on_code_action(ls: ZwarmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    path = editor.uri_path(uri) or uri
    if not uri.startswith("file:") or not ls.service.in_workspace(Path(path)):
        return []  # never quote a file from outside the project back to a client
    doc = ls.workspace.get_text_document(uri)
    root = ls.service.config.root
    shown = str(Path(path).relative_to(root)) if Path(path).is_relative_to(root) else path
    return editor.code_actions(uri, shown, params.range, doc.lines, editor.language_of(path),
                               params.context.diagnostics)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
async def on_did_save(ls: ZwarmServer, params: lsp.DidSaveTextDocumentParams) -> None:
    """What the user saved is theirs: their lines are never credited to an agent."""
    if ls._service is not None:
        try:
            await ls.service.review.on_user_save(params.text_document.uri)
        except Exception:
            log.exception("recording a user save failed")


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
async def on_code_lens(ls: ZwarmServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    await ls.service.wait_ready()
    uri = params.text_document.uri
    summaries = ls.service.index.summaries()
    lenses = editor.code_lenses(uri, summaries)
    reviewing = [s for s in summaries if s.changes and s.changes.pending + s.changes.conflict]
    for s in reviewing[:REVIEW_LENS_SESSIONS]:
        changes = await ls.service.review.session_changes(SessionChangesParams(session_id=s.id))
        lenses += editor.hunk_lenses(s, changes, uri)
    return lenses


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: ZwarmServer, params: lsp.HoverParams) -> lsp.Hover | None:
    result = await _decorations(ls.service)(DecorationsParams(uri=params.text_document.uri))
    line = params.position.line
    hits = [d for d in result.decorations if d.range.start.line <= line <= d.range.end.line]
    if not hits:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                                value="\n\n---\n\n".join(d.hover for d in hits)))


def raise_open_file_limit(wanted: int = 65536) -> None:
    """Every running turn keeps its output file open while it is followed: allow as many
    open files as the system lets this process have (the soft limit is often 1,024)."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def serve(args: argparse.Namespace) -> int:
    """Run the server on stdio (default) or TCP until the client disconnects."""
    raise_open_file_limit()
    server.root_override = args.root
    if not args.tcp:
        server.start_io()
        return 0
    if getattr(args, "token", None):
        log.error("--token on the command line is visible to every local user: put it in "
                  "%s or a 0600 file given with --token-file", TOKEN_ENV)
        return 2
    try:
        token = read_token(args.token_file)
    except TokenError as exc:
        log.error("%s", exc)
        return 2
    os.environ.pop(TOKEN_ENV, None)  # the agents this daemon starts never see it
    host, _, port = args.tcp.rpartition(":")
    if not port.isdigit() or not host:
        log.error("--tcp wants HOST:PORT, e.g. 127.0.0.1:2087")
        return 2
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not args.allow_remote:
        log.error("refusing to listen on %s: pass --allow-remote (and a token)", host)
        return 2
    if not token:
        # Every local user can reach a loopback port: an open one would run agents as you.
        log.error("TCP requires a token: set %s or give a 0600 --token-file", TOKEN_ENV)
        return 2

    def connection_server() -> ZwarmServer:
        """Each TCP client gets a server of its own, with every feature of `server`."""
        ls = ZwarmServer(args.root, token)
        copy_features(server, ls)
        return ls

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(TcpHost(connection_server).serve(host, int(port)))
    return 0


__all__ = ["REQUESTS", "Status", "ZwarmServer", "serve", "server"]
