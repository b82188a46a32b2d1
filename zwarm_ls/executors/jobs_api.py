"""The few Ray Jobs REST calls a relay makes while it follows a job (status, logs, tail,
stop), over plain HTTP and one websocket. A relay lives as long as its turn, and one runs
per remote turn: without Ray's SDK in it, it needs a third of the memory. Submitting
(which uploads the working dir) is left to the SDK, in a short-lived process
(`submit.py`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
HTTP_TIMEOUT_S = 30.0


class JobsApi:
    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise OSError(f"Ray Jobs API {method} {path}: HTTP {exc.code} "
                          f"{exc.read()[:300].decode(errors='replace')}") from None
        except (urllib.error.URLError, ValueError) as exc:
            raise OSError(f"Ray Jobs API {method} {path}: {exc}") from None

    def info(self, submission_id: str) -> dict[str, Any]:
        """status, message, driver_node_id, driver_exit_code, … of the job."""
        return self._call("GET", f"/api/jobs/{submission_id}")

    def logs(self, submission_id: str) -> str:
        return str(self._call("GET", f"/api/jobs/{submission_id}/logs").get("logs") or "")

    def stop(self, submission_id: str) -> bool:
        return bool((self._call("POST", f"/api/jobs/{submission_id}/stop") or {})
                    .get("stopped"))

    async def tail(self, submission_id: str) -> AsyncIterator[str]:
        """The job's log from its start, in pieces as Ray sends them, until it ends."""
        import aiohttp

        async with aiohttp.ClientSession() as session, \
                session.ws_connect(f"{self.url}/api/jobs/{submission_id}/logs/tail") as ws:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    yield message.data
                elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
