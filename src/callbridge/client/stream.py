"""``ConsoleStream``: the console's push channel (``WS /console/v1/stream``) as an async iterator of typed events,
resuming after the last id it saw whenever the connection ends.

>>> async with AsyncConsoleClient("http://127.0.0.1:8080") as agent:  # doctest: +SKIP
...     session = await agent.sign_in("alice@demo.example.com", "demo")
...     async with ConsoleStream("http://127.0.0.1:8080", session.token) as stream:
...         await agent.set_presence(Presence.AVAILABLE)  # after the hello: no offer can be missed
...         async for event in stream:
...             if isinstance(event, RoutingOffered):
...                 await agent.accept_offer(event.offer_id)

Events are the server's own wire models (``callbridge.events.schemas``), so a client and the server share one
definition. Control messages are handled here: ``stream.heartbeat`` moves the resume point, ``stream.reconnect``
reconnects after the delay the server asks for, ``stream.error`` raises ``StreamRefused``. A connection that
drops is reopened with ``?after=<last id>``, so nothing committed meanwhile is missed (the server replays it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlencode

from pydantic import TypeAdapter, ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from callbridge.client.errors import CallbridgeClientError
from callbridge.client.transport import CONSOLE_PREFIX, USER_AGENT, api_root
from callbridge.events.schemas import AnyEvent, Event, StreamError, StreamHello, StreamReconnect

log = logging.getLogger("callbridge.client")

STREAM_PATH: Final = CONSOLE_PREFIX + "/stream"
_EVENT: Final[TypeAdapter[AnyEvent]] = TypeAdapter(Event)


class StreamRefused(CallbridgeClientError):
    """The server sent ``stream.error`` and closed the stream: ``SESSION_EXPIRED``, ``RESUME_TOO_FAR``, ..."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class StreamLost(CallbridgeClientError):
    """The connection could not be opened, or reopened within the allowed attempts."""


def stream_url(base_url: str, after: int | None = None) -> str:
    """``ws(s)://host/console/v1/stream`` of a server root (or API base), with ``?after=`` to resume.

    >>> stream_url("http://127.0.0.1:8080/telephony/v1", after=42)
    'ws://127.0.0.1:8080/console/v1/stream?after=42'
    """
    root = api_root(base_url)
    url = "ws" + root[len("http") :] + STREAM_PATH
    return url + ("?" + urlencode({"after": after}) if after is not None else "")


class ConsoleStream:
    """One agent's (or supervisor's) push channel, authenticated with the session token as ``Bearer``.

    ``after`` resumes after an event id (``None``: only what happens from now on). ``last_id`` is where the
    stream would resume now. ``connect()`` returns the first ``stream.hello``; iterating yields events, and
    reconnects transparently (at most ``max_reconnect_attempts`` failed attempts in a row, waiting
    ``reconnect_delay`` doubled each time) unless ``reconnect`` is False, in which case iteration ends when the
    connection does.
    """

    def __init__(
        self,
        base_url: str,
        session_token: str,
        *,
        after: int | None = None,
        reconnect: bool = True,
        max_reconnect_attempts: int = 5,
        reconnect_delay: float = 0.5,
        open_timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url
        self.last_id = after
        self.hello: StreamHello | None = None
        self._token = session_token
        self._reconnect = reconnect
        self._max_attempts = max_reconnect_attempts
        self._delay = reconnect_delay
        self._open_timeout = open_timeout
        self._connection: ClientConnection | None = None
        self._closed = False

    async def __aenter__(self) -> ConsoleStream:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def connect(self) -> StreamHello:
        """Open the connection and read its ``stream.hello`` (``StreamRefused`` when the server says no)."""
        url = stream_url(self.base_url, self.last_id)
        headers = {"Authorization": f"Bearer {self._token}", "User-Agent": USER_AGENT}
        try:
            self._connection = await connect(
                url, additional_headers=headers, open_timeout=self._open_timeout, user_agent_header=None
            )
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise StreamLost(f"cannot open {url}: {exc!r}") from exc
        try:
            first = self._control(await self._receive())
        except (StreamRefused, StreamLost, ConnectionClosed, ValueError) as exc:
            await self._drop()
            if isinstance(exc, StreamRefused | StreamLost):
                raise
            raise StreamLost(f"{url} closed before its stream.hello: {exc!r}") from exc
        if not isinstance(first, StreamHello):
            await self._drop()
            raise StreamLost(f"{url} did not start with stream.hello: {first!r}")
        self.hello = first
        if self.last_id is None:
            self.last_id = first.id
        return first

    async def aclose(self) -> None:
        """Close the connection; iteration ends."""
        self._closed = True
        await self._drop()

    def __aiter__(self) -> AsyncIterator[AnyEvent]:
        return self.events()

    async def events(self) -> AsyncIterator[AnyEvent]:
        """The events, in id order, across reconnections; unknown event types (a newer server) are skipped."""
        failures = 0
        while not self._closed:
            if self._connection is None:
                try:
                    await self.connect()
                    failures = 0
                except StreamLost:
                    failures += 1
                    if failures > self._max_attempts:
                        raise
                    await asyncio.sleep(self._delay * 2 ** (failures - 1))
                    continue
            try:
                raw = await self._receive()
            except ConnectionClosed:
                await self._drop()
                if not self._reconnect or self._closed:
                    return
                continue
            kind = raw.get("type", "")
            if isinstance(kind, str) and kind.startswith("stream."):
                try:
                    control = self._control(raw)
                except StreamRefused:
                    await self._drop()
                    raise
                if isinstance(control, StreamReconnect):
                    await self._drop()
                    if not self._reconnect:
                        return
                    await asyncio.sleep(control.retry_after_ms / 1000)
                continue
            try:
                event = _EVENT.validate_python(raw)
            except ValidationError:
                log.debug("skipping an event this client does not know: %.200s", raw)
                if isinstance(raw.get("id"), int):
                    self.last_id = raw["id"]
                continue
            self.last_id = event.id
            yield event

    async def _receive(self) -> dict[str, Any]:
        assert self._connection is not None, "connect() first"
        text = await self._connection.recv()
        message = json.loads(text)
        if not isinstance(message, dict):
            raise StreamLost(f"not a JSON object: {str(text)[:200]!r}")
        return message

    def _control(self, raw: dict[str, Any]) -> StreamHello | StreamReconnect | None:
        """Apply a control message; raise on ``stream.error``."""
        kind = raw.get("type")
        if kind == "stream.error":
            error = StreamError.model_validate(raw)
            self._closed = True
            raise StreamRefused(error.code, error.message)
        if isinstance(raw.get("id"), int) and (self.last_id is None or raw["id"] > self.last_id):
            self.last_id = raw["id"]
        if kind == "stream.hello":
            return StreamHello.model_validate(raw)
        if kind == "stream.reconnect":
            return StreamReconnect.model_validate(raw)
        return None

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
