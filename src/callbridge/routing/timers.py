"""The routing timer: expires offers past their push timeout, releases scheduled callbacks, and offers
waiting work to agents who became free. Every process runs one; the engine's conditional updates make
their ticks safe to overlap, and immediate attempts after each change keep the timer off the fast path."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from callbridge.kit.db import is_unavailable
from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor, UnitOfWork
from callbridge.routing import engine, repository
from callbridge.routing.tx import in_unit_of_work

log = structlog.get_logger()
ACTOR = Actor(name="routing-engine")


@dataclass(frozen=True)
class Tick:
    released: int
    expired: int
    offered: int


async def _tick(uow: UnitOfWork) -> Tick:
    released = await engine.release_scheduled(uow)
    expired = await engine.expire_due(uow)
    offered = 0
    for org_id in await repository.orgs_with_waiting_work(uow.session):
        offered += await engine.dispatch(uow, org_id, new_round=True)
    return Tick(released, expired, offered)


async def tick(state: AppState) -> Tick:
    """One pass at ``state.clock.now()``; tests call it directly with a frozen clock. A read-only probe
    first, so an idle server never takes the write lock for nothing."""
    async with state.database.read_session() as session:
        if not await repository.anything_due(session, state.clock.now()):
            return Tick(0, 0, 0)
    return await in_unit_of_work(state, ACTOR, _tick)


async def _run(state: AppState, interval: float) -> None:
    while True:
        try:
            await tick(state)
        except Exception as exc:  # a failed pass is retried on the next one; the timer must not die
            if is_unavailable(exc):  # the database is away: no bug to trace
                log.warning("routing timer pass skipped: the database is unavailable", error=str(exc)[:300])
            else:
                log.exception("routing timer pass failed")
        await asyncio.sleep(interval)


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
