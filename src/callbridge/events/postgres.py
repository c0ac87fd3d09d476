"""The shared broker over PostgreSQL LISTEN/NOTIFY: no service besides the database itself.

A notification names event ids only ("120-135,140"), never bodies: a payload must stay under 8000 bytes, and a
transcript's text must not travel anywhere a redaction cannot reach. Each process reads the named events back
from the timeline (``callbridge.events.ordered``), in id order, and fans them out to its own subscribers.

Notifications go out on a connection of their own, after the commit and off the request's path; one listener
connection receives them. Either reconnects with backoff when it drops. While the listener is away, ``ping``
raises (``GET /readyz`` answers 503); when it is back, what was committed meanwhile is read from storage, so
nothing is lost. Notifications are per database: every process must use the same database for the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import structlog
from sqlalchemy.engine import make_url

from callbridge.events.broker import BrokerUnavailable
from callbridge.events.ordered import OrderedBroker, backoff, drain_then_stop
from callbridge.events.schemas import AnyEvent
from callbridge.kit.db import Database

log = structlog.get_logger()

CHANNEL = "callbridge_events"
MAX_PAYLOAD_BYTES = 7_999  # PostgreSQL refuses a payload of 8000 bytes or more
MAX_PENDING_IDS = 100_000  # ids waiting for the notifier; past that the oldest go (storage still has them)
_NOTIFY = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload"


def encode_ids(ids: Iterable[int], max_bytes: int = MAX_PAYLOAD_BYTES) -> list[str]:
    """Ids as compact ranges (``"120-135,140"``), split into as few payloads under ``max_bytes`` as needed."""
    ranges: list[list[int]] = []
    for event_id in sorted(set(ids)):
        if ranges and event_id == ranges[-1][1] + 1:
            ranges[-1][1] = event_id
        else:
            ranges.append([event_id, event_id])
    payloads: list[str] = []
    current = ""
    for low, high in ranges:
        part = str(low) if low == high else f"{low}-{high}"
        if current and len(current) + 1 + len(part) > max_bytes:
            payloads.append(current)
            current = part
        else:
            current = f"{current},{part}" if current else part
    if current:
        payloads.append(current)
    return payloads


def decode_ids(payload: str) -> list[tuple[int, int]]:
    """The ``(first, last)`` ranges a payload names (``ValueError`` for anything else)."""
    ranges = []
    for part in payload.split(","):
        low, _, high = part.partition("-")
        ranges.append((int(low), int(high or low)))
    return ranges


def asyncpg_dsn(url: str) -> str:
    """A libpq-style DSN for asyncpg from a ``postgresql://`` or SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBroker(OrderedBroker):
    def __init__(
        self,
        url: str,
        database: Database,
        *,
        channel: str = CHANNEL,
        sweep_seconds: float = 1.0,
        keepalive_seconds: float = 5.0,
        connect_timeout: float = 5.0,
    ) -> None:
        super().__init__(database, sweep_seconds=sweep_seconds)
        self._dsn = asyncpg_dsn(url)
        self.channel = channel
        self._keepalive = keepalive_seconds
        self._connect_timeout = connect_timeout
        self._pending: list[int] = []
        self._pending_ready = asyncio.Event()
        self._listener: Any = None  # the asyncpg connection while it listens
        self._listener_lock = asyncio.Lock()  # asyncpg runs one query at a time per connection
        self._notifier: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._drained = asyncio.Event()  # set while nothing waits to be sent
        self._drained.set()
        self.notifications_sent = 0  # for tests and metrics

    async def start(self) -> None:
        await super().start()
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="broker:pg-listen"),
            asyncio.create_task(self._notify_forever(), name="broker:pg-notify"),
        ]

    async def stop(self) -> None:
        await drain_then_stop(self._drained, self._tasks)
        self._tasks = []
        await super().stop()

    @property
    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def ping(self) -> None:
        listener = self._listener
        if listener is None or listener.is_closed():
            raise BrokerUnavailable("not listening for PostgreSQL notifications (reconnecting)")
        async with self._listener_lock:
            await listener.fetchval("SELECT 1")

    def _send(self, events: Sequence[AnyEvent]) -> None:
        self._pending.extend(event.id for event in events)
        if len(self._pending) > MAX_PENDING_IDS:
            del self._pending[: len(self._pending) - MAX_PENDING_IDS]
        self._drained.clear()
        self._pending_ready.set()

    async def _notify_forever(self) -> None:
        attempt = 0
        try:
            while True:
                await self._pending_ready.wait()
                self._pending_ready.clear()
                while self._pending:
                    ids, self._pending = self._pending, []
                    try:
                        if self._notifier is None or self._notifier.is_closed():
                            self._notifier = await self._connect("notify")
                        payloads = encode_ids(ids)
                        await self._notifier.execute(_NOTIFY, self.channel, payloads)
                        self.notifications_sent += len(payloads)
                        attempt = 0
                    except Exception as exc:  # committed already: other processes also sweep storage
                        log.warning("broker: NOTIFY failed; retrying", error=_describe(exc))
                        self._pending[:0] = ids
                        del self._pending[: max(0, len(self._pending) - MAX_PENDING_IDS)]
                        await _close(self._notifier)
                        self._notifier = None
                        await asyncio.sleep(backoff(attempt))
                        attempt += 1
                self._drained.set()
        finally:
            await _close(self._notifier)
            self._notifier = None

    async def _listen_forever(self) -> None:
        attempt = 0
        while True:
            connection: Any = None
            try:
                connection = await self._connect("listen")
                lost = asyncio.Event()
                connection.add_termination_listener(_setter(lost))
                await connection.add_listener(self.channel, self._notified)
                self._listener = connection
                if attempt:
                    log.info("broker: listening for notifications again")
                attempt = 0
                # Listening now: whatever was committed while nobody listened is in storage.
                self.sweep_now()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._keepalive):
                            await lost.wait()
                    if not lost.is_set():  # a silent connection may be a dead one
                        async with self._listener_lock, asyncio.timeout(self._keepalive):
                            await connection.fetchval("SELECT 1")
                raise ConnectionError("the listener connection was closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broker: not listening for notifications; reconnecting", error=_describe(exc))
            finally:
                self._listener = None
                await _close(connection)
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _connect(self, role: str) -> Any:
        settings = {"application_name": f"callbridge-broker-{role}"}
        return await asyncpg.connect(self._dsn, timeout=self._connect_timeout, server_settings=settings)

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            ranges = decode_ids(payload)
        except ValueError:
            log.warning("broker: a notification that names no event ids was ignored", payload=payload[:100])
            return
        self.committed_through(max(high for _, high in ranges))


async def _close(connection: Any) -> None:
    if connection is None or connection.is_closed():
        return
    try:
        async with asyncio.timeout(1):
            await connection.close()
    except Exception:  # a connection that cannot say goodbye is cut
        connection.terminate()


def _setter(event: asyncio.Event) -> Any:
    """A termination listener that sets ``event``."""
    return lambda _connection: event.set()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
