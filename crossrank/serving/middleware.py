"""ASGI layers in front of the routes: request metrics, the API key, the payload limit.

They are plain ASGI (no body buffering), so a request over the payload limit is refused from its
``Content-Length`` before its body is read, and a chunked one as soon as it passes the limit.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.exceptions import HTTPException

from crossrank.serving.errors import error_response
from crossrank.serving.metrics import ServerMetrics

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class MetricsMiddleware:
    """Counts requests and their durations by route and status (unknown paths count as ``other``)."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics, routes: Iterable[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes else "other"
        status = {"code": 500}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            labels = (route, str(status["code"]))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.request_duration.labels(*labels).observe(time.perf_counter() - start)


class ApiKeyMiddleware:
    """Refuses every route but ``/health`` without ``Authorization: Bearer <key>`` (401)."""

    def __init__(self, app: ASGIApp, api_key: str, open_paths: Iterable[str] = ("/health",)) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode()
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"authorization")
        if sent is None or not hmac.compare_digest(sent, self.expected):
            what = "missing" if sent is None else "wrong"
            response = error_response(401, f"the API key is {what}; send the header 'Authorization: Bearer <key>' "
                                           "with the key the server was started with (--api-key).",
                                      "unauthorized", {"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised from ``receive``; an HTTPException so that FastAPI's body parsing passes it on as a 413."""


class PayloadLimitMiddleware:
    """413 for a body over ``limit`` bytes, from ``Content-Length`` or while a chunked body streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _message(self, size: str) -> str:
        return (f"the request body is {size}, over this server's payload limit of {self.limit} bytes "
                "(--payload-limit); send fewer or shorter documents per request.")

    def _refusal(self, size: str) -> Any:
        return error_response(413, self._message(size), "validation")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refusal(f"{int(declared)} bytes")(scope, receive, send)
            return
        seen = {"bytes": 0, "started": False}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > self.limit:
                    raise _TooLarge(413, self._message(f"over {self.limit} bytes"))
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["started"] = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if seen["started"]:
                raise
            await self._refusal(f"over {self.limit} bytes")(scope, receive, send)
