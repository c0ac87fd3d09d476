"""The broker interface and its in-process implementation.

Only committed state is ever published: the unit of work hands its events over after a successful commit.
Shared brokers (PostgreSQL NOTIFY, Redis Streams) implement the same interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from callbridge.events.schemas import AnyEvent


class Broker(Protocol):
    async def publish(self, events: Sequence[AnyEvent]) -> None: ...

    def subscribe(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]: ...

    def unsubscribe(self, queue: asyncio.Queue[AnyEvent]) -> None: ...


class InProcessBroker:
    """Fan-out to subscribers of this process, in publish order. A subscriber that falls behind by more
    than its queue's bound loses the oldest events and must resume from storage."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[AnyEvent]] = set()

    async def publish(self, events: Sequence[AnyEvent]) -> None:
        for queue in self._subscribers:
            for item in events:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(item)

    def subscribe(self, max_queued: int = 1000) -> asyncio.Queue[AnyEvent]:
        queue: asyncio.Queue[AnyEvent] = asyncio.Queue(maxsize=max_queued)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[AnyEvent]) -> None:
        self._subscribers.discard(queue)
