"""The broker interface and its in-process implementation.

Only committed state is ever published: the unit of work hands its events over after a successful commit.
Shared brokers (PostgreSQL NOTIFY, Redis Streams: ``callbridge.events.shared``) implement the same interface;
``callbridge.events.brokers.broker_from_url`` picks one from the settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from callbridge.events.schemas import AnyEvent


class BrokerUnavailable(Exception):
    """A shared broker cannot be reached right now (``ping``); it keeps reconnecting by itself."""


class Broker(Protocol):
    async def publish(self, events: Sequence[AnyEvent]) -> None: ...

    def subscribe(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]: ...

    def subscribe_local(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]:
        """Only the events this process publishes, in publish order (what this process did: metrics). A shared
        broker's ``subscribe`` also carries every other process's events."""
        ...

    def unsubscribe(self, queue: asyncio.Queue[AnyEvent]) -> None: ...

    def overflowed(self, queue: asyncio.Queue[AnyEvent]) -> bool:
        """Whether events were lost to this subscriber's full queue since the last call (then it resumes from
        storage); the flag is cleared by asking."""
        ...

    async def ping(self) -> None:
        """Return when the broker is reachable; raise when it is not (``GET /readyz``)."""
        ...

    async def start(self) -> None:
        """Connect and start background tasks (the app's lifespan calls it for the broker it made)."""
        ...

    async def stop(self) -> None:
        """Hand over what is still to be sent (briefly), stop the tasks and disconnect."""
        ...


class InProcessBroker:
    """Fan-out to subscribers of this process, in publish order. A subscriber that falls behind by more
    than its queue's bound loses the oldest events and must resume from storage."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[AnyEvent]] = set()
        self._overflowed: set[asyncio.Queue[AnyEvent]] = set()

    async def publish(self, events: Sequence[AnyEvent]) -> None:
        self.fan_out(events)

    def fan_out(self, events: Sequence[AnyEvent]) -> None:
        """Put the events on every subscriber's queue now, dropping the oldest where a queue is full."""
        for queue in self._subscribers:
            for item in events:
                if queue.full():
                    queue.get_nowait()
                    self._overflowed.add(queue)
                queue.put_nowait(item)

    def overflow_all(self) -> None:
        """Tell every subscriber it missed events (it resumes from storage)."""
        self._overflowed.update(self._subscribers)

    def subscribe(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]:
        queue: asyncio.Queue[AnyEvent] = asyncio.Queue(maxsize=max_queued)
        self._subscribers.add(queue)
        return queue

    def subscribe_local(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]:
        """In one process, every event is this process's."""
        return self.subscribe(max_queued)

    def unsubscribe(self, queue: asyncio.Queue[AnyEvent]) -> None:
        self._subscribers.discard(queue)
        self._overflowed.discard(queue)

    def overflowed(self, queue: asyncio.Queue[AnyEvent]) -> bool:
        if queue in self._overflowed:
            self._overflowed.discard(queue)
            return True
        return False

    async def ping(self) -> None:
        """Always reachable: it lives in this process."""

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to disconnect."""
