"""The push channel's messages, whatever carries them (WebSocket or Server-Sent Events).

A stream subscribes to the broker *before* it reads storage, so nothing committed in between is missed; an
event seen both ways is sent once (ids only grow: anything at or below the last id sent is a duplicate).
Resuming ``after`` an id replays what the audience missed from the timeline, then goes live. Every message
carries ``id``: for events their timeline id, for control messages the last event id sent so far.

Lifecycle: ``stream.hello``, replayed events, live events and ``stream.heartbeat`` when idle, and finally
``stream.reconnect`` when the connection's life is over or the server is stopping (or ``stream.error``: its
session ended, for instance, which ``callbridge.console.watch`` notices).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Collection
from dataclasses import dataclass
from typing import Any

from callbridge.console.audience import Audience
from callbridge.console.watch import SessionWatch
from callbridge.errors import CallbridgeError
from callbridge.events import replay
from callbridge.events.schemas import (
    AnyControl,
    AnyEvent,
    StreamError,
    StreamHeartbeat,
    StreamHello,
    StreamReconnect,
)
from callbridge.kit.state import AppState

PAGE = 500
RECONNECT_AFTER_MS = 1_000


@dataclass(frozen=True)
class Message:
    """One message to send: its id, its type and its JSON text."""

    id: int
    type: str
    json: str
    final: bool = False
    # For a final message that ends the stream for its session: the error code (a WebSocket close reason).
    session_ended: str | None = None


class _WireCache:
    """A published event goes to every stream as the same object: its JSON is rendered once (a bounded
    cache keyed by the event's id that holds the event, so that another event with that id never matches)."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._texts: OrderedDict[int, tuple[AnyEvent, str]] = OrderedDict()

    def text(self, event: AnyEvent) -> str:
        cached = self._texts.get(event.id)
        if cached is not None and cached[0] is event:
            return cached[1]
        text = event.model_dump_json(by_alias=True)
        self._texts[event.id] = (event, text)
        if len(self._texts) > self._size:
            self._texts.popitem(last=False)
        return text


_wire = _WireCache()


def _message(event: AnyEvent) -> Message:
    return Message(event.id, event.type, _wire.text(event))


def _control(model: AnyControl, *, final: bool = False) -> Message:
    return Message(model.id, model.type, model.model_dump_json(by_alias=True), final)


class _Cursor:
    """The last event id the stream has passed (sent or filtered out)."""

    def __init__(self, audience: Audience, last: int) -> None:
        self.audience = audience
        self.last = last

    def take(self, events: Collection[AnyEvent]) -> list[Message]:
        out = []
        for event in events:
            if event.id <= self.last:
                continue
            self.last = event.id
            self.audience.follow(event)
            if self.audience.admits(event):
                out.append(_message(event))
        return out


async def _replay(state: AppState, cursor: _Cursor, calls: Collection[str] | None, limit: int) -> list[Message] | None:
    """What the audience missed since ``cursor.last``, from storage; None when more than ``limit`` events."""
    out: list[Message] = []
    scanned = 0
    while True:
        async with state.database.read_session() as session:
            page = await replay.events_after(
                session, cursor.last, call_center_ids=cursor.audience.sources, calls=calls, limit=PAGE
            )
        scanned += len(page)
        if scanned > limit:
            return None
        out += cursor.take(page)
        if len(page) < PAGE:
            return out


def _ended(cursor: _Cursor, error: CallbridgeError) -> Message:
    message = StreamError(id=cursor.last, code=error.code, message=error.message)
    return Message(message.id, message.type, message.model_dump_json(by_alias=True), True, error.code)


async def messages(
    state: AppState,
    audience: Audience,
    after: int | None,
    *,
    calls: Collection[str] | None = None,
    watch: SessionWatch | None = None,
) -> AsyncGenerator[Message, None]:
    """The stream of one connection, until its life ends, its session ends (``watch``) or the server stops (the
    last message is final)."""
    settings = state.settings
    broker = state.broker
    queue = broker.subscribe(settings.console_stream_queue_size)
    getter: asyncio.Future[Any] | None = None
    stopping: asyncio.Future[Any] = asyncio.ensure_future(state.stopping.wait())
    signed_out: asyncio.Future[Any] | None = asyncio.ensure_future(watch.signed_out.wait()) if watch else None
    try:
        if after is None:
            async with state.database.read_session() as session:
                cursor = _Cursor(audience, await replay.last_event_id(session))
            missed: list[Message] | None = []
        else:
            cursor = _Cursor(audience, after)
            missed = await _replay(state, cursor, calls, settings.console_stream_replay_max)
        if missed is None:
            error = StreamError(
                id=after or 0,
                code="RESUME_TOO_FAR",
                message=f"more than {settings.console_stream_replay_max} events were missed: reload, then "
                "connect without 'after'",
            )
            yield _control(error, final=True)
            return
        hello = StreamHello(
            id=after if after is not None else cursor.last,
            role="supervisor" if audience.is_supervisor else "agent",
            userId=audience.user_id,
            heartbeatSeconds=settings.console_stream_heartbeat_seconds,
            resumedAfter=after,
            replayed=len(missed),
        )
        yield _control(hello)
        for message in missed:
            yield message
        heartbeat = settings.console_stream_heartbeat_seconds
        deadline = time.monotonic() + settings.console_stream_max_life_seconds
        while True:
            now = time.monotonic()
            if now >= deadline:
                reconnect = StreamReconnect(
                    id=cursor.last, reason="the connection's life is over", retryAfterMs=RECONNECT_AFTER_MS
                )
                yield _control(reconnect, final=True)
                return
            if getter is None:
                getter = asyncio.ensure_future(queue.get())
            waiting = {getter, stopping} if signed_out is None else {getter, stopping, signed_out}
            timeout = min(heartbeat, deadline - now)
            if watch is not None and (left := watch.seconds_left()) is not None:
                timeout = min(timeout, left + 0.01)  # wake when the session expires
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if stopping in done:
                reconnect = StreamReconnect(id=cursor.last, reason="the server is stopping", retryAfterMs=2_000)
                yield _control(reconnect, final=True)
                return
            if watch is not None and (ended := await watch.ended()) is not None:
                yield _ended(cursor, ended)
                return
            if getter not in done:
                yield _control(StreamHeartbeat(id=cursor.last))
                continue
            events = [getter.result()]
            getter = None
            while not queue.empty():
                events.append(queue.get_nowait())
            if broker.overflowed(queue):
                # Fell behind the broker: what it dropped is in storage.
                recovered = await _replay(state, cursor, calls, settings.console_stream_replay_max)
                if recovered is None:
                    error = StreamError(id=cursor.last, code="TOO_SLOW", message="the client fell too far behind")
                    yield _control(error, final=True)
                    return
                for message in recovered:
                    yield message
            for message in cursor.take(events):
                yield message
    finally:
        for task in (getter, stopping, signed_out):
            if task is not None:
                task.cancel()
        broker.unsubscribe(queue)
