"""The shared broker over a Redis Stream: each published event is appended (``XADD``, with its JSON body and its
id), and every process reads the stream (``XREAD BLOCK``) and fans the events out to its own subscribers.

Events arrive with their bodies, so a process reads nothing back from storage while they continue the id sequence;
a gap (another process published later than it committed) is filled from storage
(``callbridge.events.ordered``). The stream keeps the newest ``max_len`` entries (approximately): a reader that
lost its connection resumes after the last entry it saw, and what the stream no longer holds, or what was never
appended while Redis was away, is read from storage. While the reader is away, ``ping`` raises (``GET /readyz``
answers 503).

The stream holds event bodies, transcript text included, until it is trimmed: a redaction does not reach them.
Run Redis without persistence (as ``docs/deployment.md`` shows) or keep ``max_len`` small if that matters.
One stream per deployment: its key defaults to ``callbridge:events:<database name>``, or ``?stream=<key>`` in
the URL names it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio
import structlog
from pydantic import TypeAdapter, ValidationError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.engine import make_url

from callbridge.events.broker import BrokerUnavailable
from callbridge.events.ordered import OrderedBroker, backoff, drain_then_stop
from callbridge.events.schemas import AnyEvent, Event
from callbridge.kit.db import Database, is_sqlite

log = structlog.get_logger()

STREAM_PREFIX = "callbridge:events"
MAX_LEN = 100_000
MAX_PENDING = 50_000  # events waiting to be appended; past that the oldest go (storage still has them)
SEND_BATCH = 500
_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(Event)


def split_stream(url: str) -> tuple[str, str | None]:
    """The URL without its ``stream`` query parameter, and that parameter (None when absent)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    stream = next((value for key, value in query if key == "stream"), None)
    rest = urlencode([(key, value) for key, value in query if key != "stream"])
    return urlunsplit(parts._replace(query=rest)), stream or None


def default_stream(database_url: str) -> str:
    """``callbridge:events:<database>``: processes of one deployment share it, other deployments do not."""
    name = make_url(database_url).database or ""
    if is_sqlite(database_url) and name and not name.startswith(":"):
        name = str(Path(name).resolve())
    return f"{STREAM_PREFIX}:{name}"


class RedisBroker(OrderedBroker):
    def __init__(
        self,
        url: str,
        database: Database,
        *,
        stream: str | None = None,
        max_len: int = MAX_LEN,
        block_ms: int = 1000,
        sweep_seconds: float = 1.0,
        client_name: str = "callbridge-broker",
    ) -> None:
        super().__init__(database, sweep_seconds=sweep_seconds)
        plain_url, named = split_stream(url)
        self.stream = stream or named or default_stream(database.url)
        self._max_len = max_len
        self._block_ms = block_ms
        # A socket timeout above the blocking read's, so that a hung server is noticed rather than waited on; one
        # immediate retry, for pooled connections that predate a Redis restart.
        self._client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
            plain_url,
            socket_timeout=block_ms / 1000 + 5,
            socket_connect_timeout=5,
            client_name=client_name,
            retry=Retry(NoBackoff(), 1),
        )
        self._pending: deque[AnyEvent] = deque(maxlen=MAX_PENDING)
        self._pending_ready = asyncio.Event()
        self._drained = asyncio.Event()  # set while nothing waits to be sent
        self._drained.set()
        self._reading = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await super().start()
        self._tasks = [
            asyncio.create_task(self._read_forever(), name="broker:redis-read"),
            asyncio.create_task(self._send_forever(), name="broker:redis-send"),
        ]

    async def stop(self) -> None:
        await drain_then_stop(self._drained, self._tasks)
        self._tasks = []
        await self._client.aclose()
        await super().stop()

    @property
    def reading(self) -> bool:
        return self._reading

    async def ping(self) -> None:
        if not self._reading:
            raise BrokerUnavailable("not reading the Redis stream (reconnecting)")
        await self._client.ping()

    def _send(self, events: Sequence[AnyEvent]) -> None:
        self._pending.extend(events)
        self._drained.clear()
        self._pending_ready.set()

    async def _send_forever(self) -> None:
        attempt = 0
        while True:
            await self._pending_ready.wait()
            self._pending_ready.clear()
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(SEND_BATCH, len(self._pending)))]
                try:
                    async with self._client.pipeline(transaction=False) as pipe:
                        for event in batch:
                            fields = {"id": str(event.id), "event": event.model_dump_json(by_alias=True)}
                            pipe.xadd(self.stream, fields, maxlen=self._max_len, approximate=True)  # type: ignore[arg-type]
                        await pipe.execute()
                    attempt = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # committed already: readers also sweep storage
                    log.warning("broker: XADD failed; retrying", error=_describe(exc))
                    room = MAX_PENDING - len(self._pending)
                    self._pending.extendleft(reversed(batch[-room:] if room > 0 else []))
                    await asyncio.sleep(backoff(attempt))
                    attempt += 1
            self._drained.set()

    async def _read_forever(self) -> None:
        position: Any = None  # the last entry seen: a reconnected reader resumes after it
        attempt = 0
        while True:
            try:
                if position is None:
                    newest = await self._client.xrevrange(self.stream, count=1)
                    position = newest[0][0] if newest else "0-0"
                    self.sweep_now()  # anything published before this point is in storage
                elif not self._reading:
                    # Reconnected: the stream still holds every entry after ``position`` unless its oldest entry
                    # is newer (trimmed, or Redis restarted empty); then what is missing is in storage.
                    oldest = await self._client.xrange(self.stream, count=1)
                    if not oldest or _entry_key(oldest[0][0]) > _entry_key(position):
                        self.sweep_now()
                    log.info("broker: reading the Redis stream again")
                self._reading = True
                attempt = 0
                replies: Any = await self._client.xread({self.stream: position}, count=SEND_BATCH, block=self._block_ms)
                events: list[AnyEvent] = []
                last = self.last_id
                for _stream, entries in replies or []:
                    for entry_id, fields in entries:
                        position = entry_id
                        if last is not None and int(fields[b"id"]) <= last:
                            continue  # published here, or already read from storage
                        try:
                            events.append(_EVENT.validate_json(fields[b"event"]))
                        except ValidationError as exc:  # not ours, or from a newer version: storage has it
                            log.warning("broker: a stream entry that is no event was ignored", error=str(exc)[:200])
                if events:
                    self.arrived(events)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._reading or attempt == 0:
                    log.warning("broker: not reading the Redis stream; reconnecting", error=_describe(exc))
                self._reading = False
                await asyncio.sleep(backoff(attempt))
                attempt += 1


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _entry_key(entry_id: bytes | str | None) -> tuple[int, int]:
    """A stream entry id (``b"1700000000000-3"``) as a comparable pair."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id or "0-0"
    milliseconds, _, sequence = text.partition("-")
    return int(milliseconds), int(sequence or 0)
