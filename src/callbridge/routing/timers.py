"""The routing timer: expires offers past their push timeout, releases scheduled callbacks, and offers
waiting work to agents who became free. Every process runs one; the engine's conditional updates make
their ticks safe to overlap, and immediate attempts after each change keep the timer off the fast path."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from dataclasses import dataclass

import structlog

from callbridge.kit.db import Database, is_unavailable
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor, UnitOfWork
from callbridge.routing import engine, repository
from callbridge.routing.tx import in_unit_of_work

log = structlog.get_logger()
ACTOR = Actor(name="routing-engine")

# A pass holds the write lock and the event loop while it works: it expires at most this many offers and
# looks at this many waiting routings per org, and when there was more, the next pass follows at once,
# with requests served in between (a thousand offers expiring together once stalled pushes ~100 ms).
EXPIRE_PER_PASS = 5
DISPATCH_PER_PASS = 10
BETWEEN_BUSY_PASSES = 0.005


@dataclass(frozen=True)
class Tick:
    released: int
    expired: int
    offered: int


async def _tick(uow: UnitOfWork) -> tuple[Tick, repository.WaitingState]:
    """The pass, and the waiting work as it found it (in the same transaction)."""
    found = await repository.waiting_state(uow.session)
    released = await engine.release_scheduled(uow)
    expired = await engine.expire_due(uow, limit=EXPIRE_PER_PASS)
    offered = 0
    for org_id in await repository.orgs_with_waiting_work(uow.session):
        offered += await engine.dispatch(uow, org_id, new_round=True, limit=DISPATCH_PER_PASS)
    return Tick(released, expired, offered), found


# Per database: the waiting work and agents' room as the last pass that offered nothing left them.
_fruitless: weakref.WeakKeyDictionary[Database, repository.WaitingState] = weakref.WeakKeyDictionary()


async def tick(state: AppState) -> Tick:
    """One pass at ``state.clock.now()``; tests call it directly with a frozen clock. Read-only probes first,
    so an idle server never takes the write lock for nothing; nor does one whose waiting work is as the last
    pass that offered nothing left it (that pass tried every waiting routing, holding the write lock
    meanwhile): any offer made or ended, capacity freed, agent available or routing added moves the probe."""
    async with state.database.read_session() as session:
        expiry = await repository.expiry_due(session, state.clock.now())
        if not expiry and not await repository.waiting_with_room(session):
            return Tick(0, 0, 0)
        if not expiry and _fruitless.get(state.database) == await repository.waiting_state(session):
            return Tick(0, 0, 0)
    result, found = await in_unit_of_work(state, ACTOR, _tick)
    if result == Tick(0, 0, 0):
        _fruitless[state.database] = found
    else:
        _fruitless.pop(state.database, None)
    return result


async def _run(state: AppState, interval: float) -> None:
    while True:
        more = False
        try:
            result = await tick(state)
            more = result.expired >= EXPIRE_PER_PASS or result.offered >= DISPATCH_PER_PASS
        except Exception as exc:  # a failed pass is retried on the next one; the timer must not die
            if is_unavailable(exc):  # the database is away: no bug to trace
                log.warning("routing timer pass skipped: the database is unavailable", error=str(exc)[:300])
            else:
                log.exception("routing timer pass failed")
        await asyncio.sleep(BETWEEN_BUSY_PASSES if more else interval)


def start_timer(state: AppState) -> asyncio.Task[None] | None:
    """The background task, or None when ``routing_tick_seconds`` is 0 (tests drive ``tick`` themselves)."""
    interval = state.settings.routing_tick_seconds
    if interval <= 0:
        return None
    return asyncio.create_task(_run(state, interval), name="callbridge-routing-timer")


async def stop_timer(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
