"""One body limit for every route, in front of everything (the fast lane, FastAPI's routes, the console).

A declared ``Content-Length`` over the limit is answered 413 at once, before the app runs or a byte of the body
is read. Any other body is read here, whole, before the app runs: a chunked one is refused with 413 the moment its
running total passes the limit (nothing past the limit plus one chunk is held), and a client that leaves or
stalls midway (the HTTP protocol closes it, callbridge.kit.protocol) never reaches the app at all. After a 413 the
connection is closed: the rest of the body is never read.

Why read it here rather than count it as the app reads: a refusal or a disconnect in the middle of FastAPI's
body reading becomes an exception whose traceback holds the part already read in a reference cycle, which only a
full garbage collection frees (rare by design, callbridge.kit.collector): repeated, a few megabytes each time.

A declared body of up to 64 KiB (nearly all of them) costs one scan of the headers. The conversation upload
(``transcript_upload_max_bytes``, callbridge.transcripts.upload) streams: it is only counted.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callbridge.errors import PayloadTooLarge
from callbridge.kit import rendering
from callbridge.kit.bodies import ClientGone

# A declared body up to this size goes to the app as it comes: what a client leaving midway could leave held is no
# more than the HTTP server buffers per connection anyway (uvicorn's high-water mark), and nearly every request of
# the telephony API's hot paths is this small, so they skip the replay.
SMALL_BODY_BYTES = 64 * 1024
_UPLOAD_PREFIX = "/services/data/v"
_UPLOAD_SUFFIX = "/connect/conversations/upload"
_DISCONNECT: Message = {"type": "http.disconnect"}
_CLOSE = (b"connection", b"close")


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and path.endswith(_UPLOAD_SUFFIX) and path.startswith(_UPLOAD_PREFIX)


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
            await self.app(scope, receive, send)  # no body: HTTP/1.1 has no other way to send one
            return
        settings = scope["app"].state.callbridge.settings
        upload = scope["method"] == "POST" and is_upload("POST", scope["path"])
        limit = settings.transcript_upload_max_bytes if upload else settings.max_body_bytes
        if declared is not None and not chunked and declared.isdigit():
            length = int(declared)
            if length > limit:
                await _refuse(f"The body is {length} bytes; the limit is {limit} bytes.", scope, receive, send)
                return
            if length <= SMALL_BODY_BYTES:
                await self.app(scope, receive, send)
                return
        if upload:
            await _Streamed(limit, scope, receive, send).run(self.app)
            return
        message = await receive()
        if message["type"] == "http.request" and message.get("more_body", False):
            whole = await _rest(message, limit, scope, receive, send)
            if whole is None:
                return
            message = whole
        elif message["type"] != "http.request":
            await _gone(scope, receive, send)
            return
        elif len(message.get("body", b"")) > limit:
            await _refuse(f"The body exceeds the limit of {limit} bytes.", scope, receive, send)
            return
        await self.app(scope, _Replay(message, receive), send)


async def _rest(first: Message, limit: int, scope: Scope, receive: Receive, send: Send) -> Message | None:
    """The whole body as one message, or None once it has been refused (or its client has left)."""
    parts = [first.get("body", b"")]
    size = len(parts[0])
    while size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            await _gone(scope, receive, send)
            return None
        body = message.get("body", b"")
        size += len(body)
        parts.append(body)
        if not message.get("more_body", False) and size <= limit:
            return {"type": "http.request", "body": b"".join(parts), "more_body": False}
    await _refuse(f"The body exceeds the limit of {limit} bytes.", scope, receive, send)
    return None


async def _refuse(message: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = rendering.render(PayloadTooLarge(message))
    response.raw_headers.append(_CLOSE)
    await response(scope, receive, send)


async def _gone(scope: Scope, receive: Receive, send: Send) -> None:
    """Answered for the record (request metrics count a 499); the server drops it, the client having left."""
    await rendering.render(ClientGone("The client closed the connection before sending the whole body."))(
        scope, receive, send
    )


class _Replay:
    """``receive`` for the app: the body read here first, then the client's own messages (its disconnect)."""

    __slots__ = ("message", "receive")

    def __init__(self, message: Message, receive: Receive) -> None:
        self.message: Message | None = message
        self.receive = receive

    async def __call__(self) -> Message:
        message = self.message
        if message is not None:
            self.message = None
            return message
        return await self.receive()


class _Streamed:
    """An upload's body, counted as the app reads it: 413 the moment it passes the limit."""

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
            self.started = True
            if not self.read_all:
                # Answered without reading the whole upload (a 401): closing spares reading up to 512 MB.
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
        await self.send(message)
