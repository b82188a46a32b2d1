"""Garbage params for every method (the session, change-set and orchestrator ones alike,
taken from the server's own tables) get a JSON-RPC error the daemon meant to give, never
an internal error (hypothesis); non-object params are always -32602."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pytest_lsp import ClientServerConfig

from tests.lsp_helpers import SERVER
from zwarm_ls import errors
from zwarm_ls.orchestrator.lsp import REQUESTS as HUB_REQUESTS
from zwarm_ls.server import REQUESTS

from .conftest import CAPABILITIES

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12,
)
FIELDS = ["task", "adapter", "model", "workingDir", "anchor", "sessionId", "message", "full",
          "sinceIndex", "status", "reason", "delete", "sessionIds", "timeoutS", "uri",
          "keepDays", "dryRun", "selection", "isolation", "executor", "hunkIds", "turn",
          "range", "force", "runId", "pilotId", "checkpoint", "maxSteps", "wait"]
params = json_values | st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)


class BackgroundClient:
    """A pytest-lsp client on its own event loop, so hypothesis can drive it synchronously."""

    def __init__(self, root, env):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = self.run(self._start(root, env))

    async def _start(self, root, env):
        client = await ClientServerConfig(server_command=SERVER, server_env=env).start()
        await client.initialize_session(lsp.InitializeParams(capabilities=CAPABILITIES,
                                                             root_uri=root.as_uri()))
        return client

    def run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, method, value):
        async def go():
            try:
                await self.client.protocol.send_request_async(method, value)
            except JsonRpcInternalError:
                raise
            except JsonRpcException as exc:
                return exc.code
            return None
        return self.run(go())

    def close(self):
        self.run(self.client.shutdown_session())
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory) -> Iterator[BackgroundClient]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / ".zwarm").mkdir()
    env = {**os.environ, "PATH": os.defpath}  # no agent CLI: a valid delegate fails cleanly
    client = BackgroundClient(root, env)
    yield client
    client.close()


NAMES = sorted({*REQUESTS, *HUB_REQUESTS})
METHODS = [f"zwarm/{name}" for name in NAMES]
# A success, or one of the errors the daemon gives on purpose (errors.py).
MEANT = {None, errors.INVALID_PARAMS, errors.SESSION_NOT_FOUND, errors.SESSION_AMBIGUOUS,
         errors.SESSION_STATE, errors.EXECUTOR_MISSING, errors.POLICY, errors.STORE}


def test_every_method_is_fuzzed() -> None:
    assert {"sessionChanges", "applyChanges", "discardChanges", "fileContent", "blame",
            "orchestrate", "pilot", "delegate"} <= set(NAMES)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(method=st.sampled_from(METHODS), value=params)
def test_garbage_params_get_errors_not_crashes(fuzz_client, method, value):
    assert fuzz_client.call(method, value) in MEANT


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value", [[], [1, 2], 7, "text", True])
def test_params_that_are_not_an_object_are_invalid(fuzz_client, method, value):
    assert fuzz_client.call(method, value) == errors.INVALID_PARAMS


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(NAMES), args=st.lists(json_values, max_size=3))
def test_garbage_command_arguments(fuzz_client, name, args):
    async def go():
        try:
            await fuzz_client.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command=f"zwarm.{name}", arguments=args))
        except JsonRpcInternalError:
            raise
        except JsonRpcException:
            pass
    fuzz_client.run(go())


def test_server_still_answers_after_the_fuzzing(fuzz_client):
    assert fuzz_client.call("zwarm/listSessions", {}) is None
