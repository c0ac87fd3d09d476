"""On PostgreSQL, timeline ids follow commit order: a transaction that has inserted timeline entries and not yet
committed keeps every other writer from drawing timeline ids, so a console can never see a higher id before a
lower one commits (and then drop the lower one as a duplicate)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.events.broker import InProcessBroker
from callbridge.kit.bulk import insert_timeline
from callbridge.kit.clock import SystemClock
from callbridge.kit.db import Database
from callbridge.kit.uow import Actor, UnitOfWork

CALL_CENTER = "0BZXX0000000001AAA"
Committed = list[tuple[str, int]]


def gate_commit(session: AsyncSession, gate: asyncio.Event | None, after: Callable[[], None]) -> None:
    """Make ``session.commit`` wait for ``gate`` (when given), then note the commit."""
    commit = session.commit

    async def gated() -> None:
        if gate is not None:
            await gate.wait()
        await commit()
        after()

    session.commit = gated  # type: ignore[method-assign]


async def by_unit_of_work(database: Database, name: str, gate: asyncio.Event | None, committed: Committed) -> int:
    async with UnitOfWork(database, InProcessBroker(), SystemClock(), Actor(name)) as uow:
        entry = uow.record(
            call_center_id=CALL_CENTER, voice_call_id=None, conversation_id=None, kind="test.event", outcome="ok"
        )
        gate_commit(uow.session, gate, lambda: committed.append((name, entry.id)))
    return entry.id


async def by_writer(database: Database, name: str, gate: asyncio.Event | None, committed: Committed) -> int:
    """As the transcript writer's batch does: other rows first, the timeline last, then COMMIT."""
    row: dict[str, Any] = {
        "call_center_id": CALL_CENTER,
        "voice_call_id": None,
        "conversation_id": None,
        "occurred_at": datetime.now(UTC),
        "kind": "test.event",
        "actor": name,
        "request": None,
        "outcome": "ok",
        "reason": None,
        "data": {},
    }
    async with database.write_session() as session:
        (entry_id,) = await insert_timeline(session, [row])
        gate_commit(session, gate, lambda: committed.append((name, entry_id)))
        await session.commit()
    return entry_id


Writer = Callable[[Database, str, asyncio.Event | None, Committed], Awaitable[int]]


async def race(first: Writer, second: Writer, databases: tuple[Database, Database]) -> Committed:
    """``first`` inserts its entry and is slow to commit while ``second`` writes its own: the commit order."""
    gate, committed = asyncio.Event(), []
    slow = asyncio.create_task(first(databases[0], "first", gate, committed))
    await asyncio.sleep(0.3)  # inserted, waiting at the gate, holding the timeline lock
    fast = asyncio.create_task(second(databases[1], "second", None, committed))
    await asyncio.sleep(0.5)
    assert not fast.done(), "the second writer drew an id while the first had not committed"
    gate.set()
    await asyncio.gather(slow, fast)
    return committed


async def test_units_of_work_commit_in_id_order(two_databases: tuple[Database, Database]) -> None:
    """Two units of work, the first slow to commit: the second draws its id after that commit, not before."""
    committed = await race(by_unit_of_work, by_unit_of_work, two_databases)
    assert [name for name, _ in committed] == ["first", "second"]
    assert [entry_id for _, entry_id in committed] == sorted(entry_id for _, entry_id in committed)


async def test_the_transcript_writer_and_a_unit_of_work_commit_in_id_order(
    two_databases: tuple[Database, Database],
) -> None:
    """A writer batch slow to commit holds back a unit of work's timeline entry, and the other way round."""
    for first, second in ((by_writer, by_unit_of_work), (by_unit_of_work, by_writer)):
        committed = await race(first, second, two_databases)
        assert [name for name, _ in committed] == ["first", "second"]
        assert [entry_id for _, entry_id in committed] == sorted(entry_id for _, entry_id in committed)
