"""The Redis Streams broker against a real Redis: events published in one process reach another with their
bodies (no storage read while the ids run on), a killed reader connection resumes after the last entry it saw,
and a Redis restart loses nothing that was committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis

from callbridge.events.broker import BrokerUnavailable
from callbridge.events.redis import RedisBroker, default_stream, split_stream
from callbridge.kit.db import Database
from tests.events import services
from tests.events.conftest import commit_entries, eventually, take

MakeBroker = Callable[..., RedisBroker]


@pytest.fixture
async def make_broker(redis_stream: tuple[str, str]) -> AsyncIterator[Callable[..., AsyncIterator[RedisBroker]]]:
    url, key = redis_stream
    started: list[RedisBroker] = []

    async def make(database: Database, *, server: str = url, **options: object) -> RedisBroker:
        broker = RedisBroker(server, database, stream=key, **options)  # type: ignore[arg-type]
        await broker.start()
        started.append(broker)
        await eventually(lambda: broker.reading)
        return broker

    yield make  # type: ignore[misc]
    for broker in started:
        await broker.stop()


def test_the_stream_is_named_by_the_url_or_after_the_database() -> None:
    """``?stream=`` names the key (and is not passed on to Redis); otherwise it is the database's name."""
    assert split_stream("redis://h:6379/2?stream=prod&socket_timeout=3") == (
        "redis://h:6379/2?socket_timeout=3",
        "prod",
    )
    assert split_stream("redis://h:6379/2") == ("redis://h:6379/2", None)
    assert default_stream("postgresql+asyncpg://u@db:5432/callbridge") == "callbridge:events:callbridge"


async def test_events_reach_another_process_with_their_bodies(
    make_broker: MakeBroker, two_databases: tuple[Database, Database]
) -> None:
    """Units of work committed through A: B's subscriber gets the very events A published, in order, without
    reading them from storage."""
    first, second = two_databases
    a = await make_broker(first)
    b = await make_broker(second, sweep_seconds=3600)
    here, there = a.subscribe(), b.subscribe()
    ids = [n for _ in range(3) for n in await commit_entries(first, a, 2)]
    mine, theirs = await take(here, 6), await take(there, 6)
    assert [e.id for e in theirs] == ids == sorted(ids)
    assert theirs == mine
    assert b.gap_fills == 0


async def test_a_killed_reader_connection_resumes_from_the_stream(
    make_broker: MakeBroker, two_databases: tuple[Database, Database], redis_stream: tuple[str, str]
) -> None:
    """B's connection is killed (CLIENT KILL) while A publishes: B reconnects and reads on from the last entry
    it saw: every event arrives once, in order, from the stream."""
    url, _ = redis_stream
    first, second = two_databases
    a = await make_broker(first, client_name="callbridge-test-a")
    b = await make_broker(second, sweep_seconds=3600, client_name="callbridge-test-b")
    queue = b.subscribe()
    await commit_entries(first, a, 1)
    await take(queue, 1)
    admin = redis.Redis.from_url(url)
    killed = [c["id"] for c in admin.client_list() if c["name"] == "callbridge-test-b"]
    assert killed and all(admin.client_kill_filter(_id=client) for client in killed)
    ids = [n for _ in range(5) for n in await commit_entries(first, a, 1)]
    assert [e.id for e in await take(queue, 5)] == ids
    assert b.gap_fills == 0
    await asyncio.sleep(0.2)
    assert queue.empty()


async def test_a_redis_restart_loses_nothing_committed(
    two_databases: tuple[Database, Database], tmp_path: Path
) -> None:
    """Redis stops (its stream is gone: it keeps nothing on disk): ping fails in both processes, A's commits
    still succeed, and after Redis is back every one of them reaches B, in order."""
    server = services.PrivateRedis(tmp_path)
    server.start()
    first, second = two_databases
    a = RedisBroker(server.url, first, stream="callbridge:test:restart")
    b = RedisBroker(server.url, second, stream="callbridge:test:restart", sweep_seconds=3600)
    try:
        for broker in (a, b):
            await broker.start()
            await eventually(lambda broker=broker: broker.reading)  # type: ignore[misc]
        queue = b.subscribe()
        await commit_entries(first, a, 1)
        await take(queue, 1)
        server.stop()
        await eventually(lambda: not b.reading)
        with pytest.raises((BrokerUnavailable, redis.ConnectionError)):
            await a.ping()
        with pytest.raises(BrokerUnavailable):
            await b.ping()
        ids = [n for _ in range(4) for n in await commit_entries(first, a, 2)]
        server.start()
        assert [e.id for e in await take(queue, 8, within=15)] == ids
        await eventually(lambda: a.reading and b.reading)
        await a.ping()
        await b.ping()
    finally:
        await a.stop()
        await b.stop()
        server.stop()
