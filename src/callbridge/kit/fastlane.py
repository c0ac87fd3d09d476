"""The fast lane: the hottest telephony writes answered by plain ASGI, in front of FastAPI.

A trivial FastAPI route costs this server about 110 µs of CPU, a bare ASGI answer about 20 µs
(docs/benchmarks.md); at thousands of transcript POSTs per second that difference is most of a core. So a
``HotRoute`` takes the requests it is sure of: its method and path, and a JSON body that decodes and fits the
size limit. It then runs the *same* handler code as the FastAPI endpoint (authorization, validation,
the writer), and errors are rendered by the same functions as the app's exception handlers.

Anything else (XML, a body that is not JSON, too large, a disconnect while reading) goes to FastAPI untouched:
the body already read is handed on as if unread, and nothing has happened yet, so the app decides it as it
would have. FastAPI stays the one description of the API (OpenAPI, the slow cases); the fast lane adds no
behaviour of its own, and the whole test suite runs through it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callbridge.kit.bodies import is_json, media_type
from callbridge.kit.bounds import too_deep
from callbridge.kit.rendering import response_for
from callbridge.kit.state import AppState

# The key ObserveRequests reads a fast-lane request's route template from.
TEMPLATE_KEY = "callbridge.route_template"


@dataclass(frozen=True)
class HotRequest:
    state: AppState
    method: str
    path: str
    params: Mapping[str, str]  # the path parameters
    headers: Mapping[str, str]  # lower-case names; the first of repeated headers
    data: Any  # the decoded JSON body (None for an empty one)


@dataclass(frozen=True)
class HotResponse:
    status_code: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()  # besides content-length and content-type

    @classmethod
    def json(cls, content: Any, status_code: int = 200) -> HotResponse:
        """Serialised exactly as Starlette's JSONResponse does, so both lanes answer byte for byte alike."""
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        return cls(status_code, text.encode("utf-8"))


Handler = Callable[[HotRequest], Awaitable[HotResponse]]


@dataclass(frozen=True)
class HotRoute:
    method: str
    template: str  # e.g. /telephony/v1/voiceCalls/{vendorCallKey}/messages; a trailing slash also matches
    handler: Handler

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        return re.compile(f"^{regex}/?$")


class FastLane:
    """ASGI middleware: ``routes`` are tried in order, the first whose method and path match takes the request
    (declare a literal path before a parameterised one it would also match, as FastAPI's order does)."""

    def __init__(self, app: ASGIApp, routes: Sequence[HotRoute]) -> None:
        self.app = app
        self._routes = [(route, route.pattern) for route in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        for route, pattern in self._routes:
            if route.method != method:
                continue
            match = pattern.match(path)
            if match is not None:
                await self._take(route, match.groupdict(), scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _take(self, route: HotRoute, params: dict[str, str], scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        state: AppState = scope["app"].state.callbridge
        limit = state.settings.max_body_bytes
        declared = headers.get("content-length", "")
        if not is_json(media_type(headers.get("content-type"))) or (declared.isdigit() and int(declared) > limit):
            await self.app(scope, receive, send)
            return
        messages, raw = await _read(receive, limit)
        data = _decoded(raw) if raw is not None else _UNDECODED
        if data is _UNDECODED:
            await self.app(scope, _replay(messages, receive), send)
            return
        scope[TEMPLATE_KEY] = route.template
        request = HotRequest(state, scope["method"], scope["path"], params, headers, data)
        try:
            response = await route.handler(request)
        except Exception as exc:
            await response_for(request.method, request.path, exc)(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (b"content-length", str(len(response.body)).encode("latin-1")),
                    (b"content-type", b"application/json"),
                    *response.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})


_UNDECODED = object()


async def _read(receive: Receive, limit: int) -> tuple[list[Message], bytes | None]:
    """The messages read, and the whole body; None when the client left or the body passed ``limit``."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > limit:
            return messages, None
        if not message.get("more_body", False):
            break
    if len(messages) == 1:
        return messages, messages[0].get("body", b"")
    return messages, b"".join(m.get("body", b"") for m in messages)


def _decoded(raw: bytes) -> Any:
    """The body as ``callbridge.kit.bodies.decode`` gives it when that raises nothing, else ``_UNDECODED``
    (the slow lane then refuses it, after authorization, as it always has)."""
    if not raw.strip():
        return None
    if b"\\u0000" in raw or b"\x00" in raw:
        return _UNDECODED
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNDECODED
    return _UNDECODED if too_deep(raw, data) else data


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` for the app: the messages already read first, then the client's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
