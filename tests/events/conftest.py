"""Fixtures of the broker tests: a migrated throwaway PostgreSQL database, two processes' worth of Database
objects on it, a unique Redis stream, and helpers that commit timeline entries and collect what arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest

from callbridge.events.broker import Broker
from callbridge.events.schemas import AnyEvent
from callbridge.kit.clock import SystemClock
from callbridge.kit.db import Database
from callbridge.kit.uow import Actor, UnitOfWork
from tests.events import services


@dataclass(frozen=True)
class PgDatabase:
    name: str
    url: str  # postgresql+asyncpg://... (the app's database URL)

    @property
    def broker_url(self) -> str:
        return services.database_url(self.name, "postgresql")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    services.require_postgres()
    with services.migrated_template("callbridge_events") as name:
        yield name


@pytest.fixture
def pg_database(pg_template: str) -> Iterator[PgDatabase]:
    with services.throwaway_database("callbridge_events", pg_template) as name:
        yield PgDatabase(name, services.database_url(name))


@pytest.fixture
async def two_databases(pg_database: PgDatabase) -> AsyncIterator[tuple[Database, Database]]:
    """Two engines on one database, as two processes would have."""
    first, second = Database(pg_database.url), Database(pg_database.url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


@pytest.fixture
def redis_stream() -> Iterator[tuple[str, str]]:
    """The Redis server's URL and a stream key of this test's own (deleted afterwards)."""
    services.require_redis()
    key = services.stream_key()
    yield services.REDIS_SERVER, key
    services.delete_stream(services.REDIS_SERVER, key)


Commit = Callable[..., Awaitable[list[int]]]


async def commit_entries(database: Database, broker: Broker, count: int, *, kind: str = "test.event") -> list[int]:
    """One unit of work recording ``count`` timeline entries (published after its commit); their ids."""
    async with UnitOfWork(database, broker, SystemClock(), Actor("test")) as uow:
        entries = [
            uow.record(
                call_center_id="0BZXX0000000001AAA",
                voice_call_id=None,
                conversation_id=None,
                kind=kind,
                outcome="ok",
                data={"n": n},
            )
            for n in range(count)
        ]
    return [entry.id for entry in entries]


async def take(queue: asyncio.Queue[AnyEvent], count: int, within: float = 10.0) -> list[AnyEvent]:
    """The next ``count`` events of a subscriber's queue (fails when they do not come ``within`` seconds)."""
    events = []
    async with asyncio.timeout(within):
        while len(events) < count:
            events.append(await queue.get())
    return events


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``condition()`` holds (fails after ``within`` seconds)."""
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")
