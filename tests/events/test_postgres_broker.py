"""The PostgreSQL LISTEN/NOTIFY broker against the real server: what one process publishes reaches another, in
id order; notifications carry ids only, in payloads under 8000 bytes; a dropped listener reconnects, says so
on ``ping`` while it is away, and loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from callbridge.events import replay
from callbridge.events.broker import BrokerUnavailable, InProcessBroker
from callbridge.events.postgres import PostgresBroker, decode_ids, encode_ids
from callbridge.kit.db import Database
from tests.events import services
from tests.events.conftest import PgDatabase, commit_entries, eventually, take

MakeBroker = Callable[..., PostgresBroker]


@pytest.fixture
async def make_broker(pg_database: PgDatabase) -> AsyncIterator[Callable[..., AsyncIterator[PostgresBroker]]]:
    started: list[PostgresBroker] = []

    async def make(database: Database, **options: float) -> PostgresBroker:
        broker = PostgresBroker(pg_database.broker_url, database, **options)
        await broker.start()
        started.append(broker)
        await eventually(lambda: broker.listening)
        return broker

    yield make  # type: ignore[misc]
    for broker in started:
        await broker.stop()


def test_ids_travel_as_ranges_in_payloads_under_8000_bytes() -> None:
    """Runs of ids collapse into ranges; scattered ids split into several payloads, each under the limit."""
    assert encode_ids([140, *range(120, 136)]) == ["120-135,140"]
    scattered = list(range(1, 60_000, 2))
    payloads = encode_ids(scattered)
    assert len(payloads) > 1
    assert all(len(payload.encode()) < 8000 for payload in payloads)
    assert [n for p in payloads for low, high in decode_ids(p) for n in range(low, high + 1)] == scattered


async def test_events_committed_in_one_process_reach_another_in_id_order(
    make_broker: MakeBroker, two_databases: tuple[Database, Database]
) -> None:
    """Three units of work committed through A: B's subscriber gets each event once, equal to A's, in order."""
    first, second = two_databases
    a, b = await make_broker(first), await make_broker(second)
    here, there = a.subscribe(), b.subscribe()
    ids = [n for _ in range(3) for n in await commit_entries(first, a, 2)]
    mine, theirs = await take(here, 6), await take(there, 6)
    assert [e.id for e in theirs] == ids == sorted(ids)
    assert theirs == mine
    await asyncio.sleep(0.2)
    assert there.empty()


async def test_thousands_of_scattered_ids_arrive_whole(
    make_broker: MakeBroker, two_databases: tuple[Database, Database]
) -> None:
    """6000 committed entries of which A publishes every other one (several payloads): B passes on all 6000,
    the unnamed ones read from storage, in id order."""
    first, second = two_databases
    a = await make_broker(first, sweep_seconds=3600)
    b = await make_broker(second, sweep_seconds=3600)
    await asyncio.sleep(0.2)  # the sweep each does once it listens
    queue = b.subscribe(10_000)
    ids = await commit_entries(first, InProcessBroker(), 6000)  # committed, published nowhere yet
    async with first.read_session() as session:
        events = await replay.events_by_ids(session, ids)
    await asyncio.sleep(0.2)
    assert queue.empty()
    await a.publish(events[1::2])
    received = await take(queue, 6000)
    assert [e.id for e in received] == ids
    assert a.notifications_sent >= 2


async def test_a_terminated_listener_reconnects_and_loses_nothing(
    make_broker: MakeBroker, two_databases: tuple[Database, Database], pg_database: PgDatabase
) -> None:
    """B's listener is terminated while the database turns new connections away: B's ping fails; what A commits
    meanwhile reaches B once it listens again, in order."""
    first, second = two_databases
    a = await make_broker(first)
    b = await make_broker(second, sweep_seconds=3600)  # only the reconnect may catch up
    queue = b.subscribe()
    await commit_entries(first, a, 1)
    await take(queue, 1)
    await services.allow_connections(pg_database.name, False)
    try:
        await _terminate(b._listener.get_server_pid())
        await eventually(lambda: not b.listening)
        with pytest.raises(BrokerUnavailable):
            await b.ping()
        ids = await commit_entries(first, a, 5)  # A's open connections still work
        await asyncio.sleep(0.5)
        assert queue.empty(), "B is not listening and does not sweep: nothing may arrive yet"
    finally:
        await services.allow_connections(pg_database.name, True)
    assert [e.id for e in await take(queue, 5)] == ids
    await eventually(lambda: b.listening)
    await b.ping()


async def test_a_process_that_never_notified_is_caught_up_by_the_sweep(
    make_broker: MakeBroker, two_databases: tuple[Database, Database]
) -> None:
    """Entries committed without any notification (their process died before it sent one) reach B within its
    sweep interval."""
    first, second = two_databases
    b = await make_broker(second, sweep_seconds=0.2)
    queue = b.subscribe()
    ids = await commit_entries(first, InProcessBroker(), 3)
    assert [e.id for e in await take(queue, 3, within=5)] == ids


async def _terminate(pid: int) -> None:
    connection = await asyncpg.connect(services.database_url("postgres", "postgresql"))
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def test_every_connection_cut_while_the_database_refuses_new_ones_loses_nothing(
    make_broker: MakeBroker, two_databases: tuple[Database, Database], pg_database: PgDatabase
) -> None:
    """All connections to the database are terminated and new ones refused for a while (a restart, as the
    processes see it): once it takes connections again, what A commits reaches B, in order."""
    first, second = two_databases
    a, b = await make_broker(first), await make_broker(second)
    queue = b.subscribe()
    before = await commit_entries(first, a, 2)
    assert [e.id for e in await take(queue, 2)] == before
    await services.allow_connections(pg_database.name, False)
    try:
        await services.terminate_connections(pg_database.name)
        await eventually(lambda: not a.listening and not b.listening)
        await asyncio.sleep(1.5)  # B's sweep fails meanwhile
    finally:
        await services.allow_connections(pg_database.name, True)
    await eventually(lambda: a.listening and b.listening)
    after = [n for _ in range(3) for n in await commit_entries(first, a, 2)]
    assert [e.id for e in await take(queue, 6)] == after


async def test_a_local_subscription_gets_only_this_process_s_events(
    make_broker: MakeBroker, two_databases: tuple[Database, Database]
) -> None:
    """What a process counts (metrics) are its own events: B's local subscriber sees B's commits, not A's,
    while B's plain subscriber sees both."""
    first, second = two_databases
    a, b = await make_broker(first), await make_broker(second)
    everything, own = b.subscribe(), b.subscribe_local()
    from_a = await commit_entries(first, a, 2)
    from_b = await commit_entries(second, b, 1)
    assert [e.id for e in await take(everything, 3)] == from_a + from_b
    assert [e.id for e in await take(own, 1)] == from_b
    await asyncio.sleep(0.2)
    assert own.empty()
