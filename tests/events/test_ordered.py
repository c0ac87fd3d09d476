"""Fan-out in id order, whatever order events are published in: what continues the sequence goes out at once,
a gap is filled from storage, what nobody published is found by the sweep, and ids that storage does not hold
never stall the sequence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from callbridge.events import ordered, replay
from callbridge.events.broker import InProcessBroker
from callbridge.events.ordered import OrderedBroker
from callbridge.events.schemas import AnyEvent, TimelineRecorded
from callbridge.kit.db import Database
from callbridge.models import TimelineEntry
from tests.events.conftest import commit_entries, take


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def broker(database: Database) -> AsyncIterator[OrderedBroker]:
    started = OrderedBroker(database, sweep_seconds=3600)
    await started.start()
    yield started
    await started.stop()


async def stored(database: Database, count: int) -> list[AnyEvent]:
    """``count`` committed entries that nobody published, as their events."""
    ids = await commit_entries(database, InProcessBroker(), count)
    async with database.read_session() as session:
        return await replay.events_by_ids(session, ids)


async def test_events_that_continue_the_sequence_go_out_at_once(database: Database, broker: OrderedBroker) -> None:
    """Published in id order: on the subscriber's queue before ``publish`` returns, no storage read."""
    queue = broker.subscribe()
    events = await stored(database, 3)
    await broker.publish(events[:2])
    await broker.publish(events[2:])
    assert [queue.get_nowait() for _ in range(3)] == events
    assert broker.gap_fills == 0


async def test_an_event_published_before_an_earlier_one_waits_for_it(database: Database, broker: OrderedBroker) -> None:
    """3 is published before 1 and 2 (their units of work finished later): 1, 2, 3 go out once, in order."""
    queue = broker.subscribe()
    first, second, third = await stored(database, 3)
    await broker.publish([third])
    assert queue.empty()
    assert [e.id for e in await take(queue, 3)] == [first.id, second.id, third.id]
    await broker.publish([first])
    await broker.publish([second])
    await asyncio.sleep(0.1)
    assert queue.empty()


async def test_an_id_that_never_committed_does_not_stall_the_sequence(
    database: Database, broker: OrderedBroker
) -> None:
    """The middle id is missing (its transaction rolled back): the ids around it go out, in order."""
    queue = broker.subscribe()
    first, second, third = await stored(database, 3)
    async with database.write_session() as session:
        await session.execute(delete(TimelineEntry).where(TimelineEntry.id == second.id))
        await session.commit()
    await broker.publish([first])
    await broker.publish([third])
    assert [e.id for e in await take(queue, 2)] == [first.id, third.id]


async def test_the_sweep_finds_what_nobody_published(database: Database) -> None:
    """Entries committed by a process that died before publishing reach subscribers within the sweep interval."""
    broker = OrderedBroker(database, sweep_seconds=0.1)
    await broker.start()
    try:
        queue = broker.subscribe()
        events = await stored(database, 2)
        assert await take(queue, 2, within=5) == events
    finally:
        await broker.stop()


async def test_a_catch_up_past_the_bound_sends_subscribers_to_storage(
    database: Database, broker: OrderedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More missed events than a catch-up replays: every subscriber is told it missed events (it resumes from
    storage itself), and the newest ones still go out, in order."""
    monkeypatch.setattr(ordered, "CATCH_UP_MAX", 5)
    monkeypatch.setattr(ordered, "PAGE", 4)
    queue = broker.subscribe()
    events = await stored(database, 20)
    broker.sweep_now()
    received = await take(queue, 4)
    assert [e.id for e in received] == [e.id for e in events[-4:]]
    assert broker.overflowed(queue)


async def test_an_id_storage_does_not_hold_is_ignored(database: Database, broker: OrderedBroker) -> None:
    """An event id far ahead that this database never stored (another deployment's): nothing goes out for it,
    and the events committed next still do."""
    queue = broker.subscribe()
    for stranger_id in (500, 1_000_000):
        stranger = TimelineRecorded(
            id=stranger_id,
            voiceCallId=None,
            callCenterId="x",
            occurredAt=datetime.now(UTC),
            kind="k",
            actor="a",
            outcome="o",
        )
        await broker.publish([stranger])
        await asyncio.sleep(0.1)
    assert queue.empty()
    assert not broker.overflowed(queue)
    events = await stored(database, 2)
    await broker.publish(events)
    assert await take(queue, 2) == events
