"""Path keys no backend could hold: refused alike for every route, before any lookup.

A vendorCallKey, VoiceCall id or conversation identifier in a path names a stored key, which is at most
``MAX_KEY_LENGTH`` characters and never contains U+0000. A longer one, or one with a NUL (``%00``), names
nothing on any backend, so it is answered 404 at once: SQLite would look it up (and its timeline would keep a
60 KB request path) while PostgreSQL refuses the NUL in the statement. Two C-level checks per request.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from callbridge.errors import CallbridgeError, InvalidRequest, NotFound
from callbridge.kit.bounds import MAX_KEY_LENGTH
from callbridge.kit.rendering import render

_VOICE_CALLS = "/telephony/v1/voiceCalls/"


class UnstorableKey(NotFound):
    def __init__(self) -> None:
        super().__init__(
            f"Nothing has this key: a key in a path is at most {MAX_KEY_LENGTH} characters and contains no NUL."
        )


class UnstorableCallKey(UnstorableKey):
    """What an unknown call is answered with, without echoing the key."""

    code = "VOICE_CALL_NOT_FOUND"


def unstorable_key(path: str) -> bool:
    """Whether some segment of ``path`` (already percent-decoded) is over the limit or holds a NUL."""
    if "\x00" in path:
        return True
    return len(path) > MAX_KEY_LENGTH and any(len(segment) > MAX_KEY_LENGTH for segment in path.split("/"))


def nul_parameters(query: bytes) -> list[str]:
    """One problem per query parameter whose name or value holds a NUL, naming it."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    names = [name.replace("\x00", "\\0") for name, value in pairs if "\x00" in name + value]
    return [f"{name}: contains a NUL character (U+0000)" for name in dict.fromkeys(names)] or [
        "query: contains a NUL character (U+0000)"
    ]


class PathKeys:
    """ASGI middleware: 404 for a path whose key cannot exist (``VOICE_CALL_NOT_FOUND`` under voiceCalls), 400
    for a query string holding NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error: CallbridgeError | None = None
        if unstorable_key(scope["path"]):
            error = UnstorableCallKey() if scope["path"].startswith(_VOICE_CALLS) else UnstorableKey()
        elif b"%00" in scope["query_string"]:
            error = InvalidRequest.for_fields(nul_parameters(scope["query_string"]))
        if error is None:
            await self.app(scope, receive, send)
            return
        await render(error)(scope, receive, send)
