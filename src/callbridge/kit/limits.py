"""One body limit for every route, in front of everything (the fast lane, FastAPI's routes, the console).

A declared ``Content-Length`` over the limit is answered 413 at once, before the app runs or a byte of the body
is read. A body of unknown length (chunked) is counted as the app reads it: the moment the running total passes
the limit, the 413 goes out and the app is told the client left, so nothing past the limit plus one chunk is
ever held. Either way the connection is closed after the 413 (the rest of the body is never read). When the app
answers without reading such a body (a 404, a 401), the rest is read and dropped before its answer goes out, so a
body over the limit is a 413 on every route.

A request with a declared length within the limit costs one scan of its headers: the HTTP server never hands
the app more than the declared length, so its body needs no counting.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callbridge.errors import PayloadTooLarge
from callbridge.kit import rendering
from callbridge.kit.state import AppState

# Routes that take more than the general limit: ``connect/conversations/upload`` streams uploads of up to
# ``transcript_upload_max_bytes`` (callbridge.transcripts.upload).
_UPLOAD_PREFIX = "/services/data/v"
_UPLOAD_SUFFIX = "/connect/conversations/upload"
_DISCONNECT: Message = {"type": "http.disconnect"}
_CLOSE = (b"connection", b"close")


def limit_for(state: AppState, method: str, path: str) -> int:
    """The most bytes a request's body may have."""
    settings = state.settings
    if method == "POST" and path.endswith(_UPLOAD_SUFFIX) and path.startswith(_UPLOAD_PREFIX):
        return settings.transcript_upload_max_bytes
    return settings.max_body_bytes


class BodyLimit:
    """Pure ASGI middleware: 413 ``PAYLOAD_TOO_LARGE`` for a body over the limit, then the connection closes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is None and not chunked:
            await self.app(scope, receive, send)  # no body (HTTP/1.1 has no other way to send one)
            return
        limit = limit_for(scope["app"].state.callbridge, scope["method"], scope["path"])
        if declared is not None and not chunked and declared.isdigit():
            if int(declared) > limit:
                await _refuse(f"The body is {int(declared)} bytes; the limit is {limit} bytes.", scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        await _Counted(limit, scope, receive, send).run(self.app)


async def _refuse(message: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = rendering.render(PayloadTooLarge(message))
    response.raw_headers.append(_CLOSE)
    await response(scope, receive, send)


class _Counted:
    """One request whose body length is not known up front."""

    __slots__ = ("limit", "read_all", "receive", "refused", "scope", "send", "size", "started")

    def __init__(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        self.limit = limit
        self.scope = scope
        self.receive = receive
        self.send = send
        self.size = 0
        self.read_all = False  # the last body message has been handed to the app
        self.started = False  # a response has started (the app's or the 413)
        self.refused = False  # the 413 went out: whatever the app sends now is dropped

    async def run(self, app: ASGIApp) -> None:
        await app(self.scope, self.counted_receive, self.counted_send)

    async def counted_receive(self) -> Message:
        if self.refused:
            return _DISCONNECT
        message = await self.receive()
        if message["type"] != "http.request":
            return message
        self.size += len(message.get("body", b""))
        if self.size > self.limit:
            self.refused = True
            if not self.started:
                self.started = True
                await _refuse(f"The body exceeds the limit of {self.limit} bytes.", self.scope, self.receive, self.send)
            return _DISCONNECT
        if not message.get("more_body", False):
            self.read_all = True
        return message

    async def counted_send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start" and not self.started:
            if not self.read_all:
                # Answered without reading the whole body (a 404, a 401): the rest is read and dropped, up to the
                # limit, so that a body over it is a 413 on every route, and one within it keeps the connection.
                await self._drain()
                if self.refused:
                    return
            self.started = True
        await self.send(message)

    async def _drain(self) -> None:
        while not self.read_all:
            message = await self.counted_receive()
            if message["type"] != "http.request":
                return
