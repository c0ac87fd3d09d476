"""Running a routing step in its own unit of work, retried when the database says another process got in
the way (SQLite's busy snapshot, PostgreSQL's deadlock or serialization failure). Correctness never rests
on the retry: the conditional updates decide; the retry only turns a collision into a second try."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from sqlalchemy import false, update
from sqlalchemy.exc import DBAPIError

from callbridge.kit.state import AppState
from callbridge.kit.uow import Actor, UnitOfWork
from callbridge.models import AgentState
from callbridge.routing.errors import ConcurrentRouting

T = TypeVar("T")
log = structlog.get_logger()

ATTEMPTS = 8
_TRANSIENT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
_TRANSIENT_WORDS = ("database is locked", "database table is locked", "deadlock", "could not serialize")


def is_transient(error: BaseException) -> bool:
    if isinstance(error, ConcurrentRouting):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    text = str(error.orig).lower()
    return any(word in text for word in _TRANSIENT_WORDS)


# Writes nothing, but takes SQLite's write lock.
_TAKE_WRITE_LOCK = update(AgentState).where(false()).values(capacity_used=AgentState.capacity_used)


async def _write_first(uow: UnitOfWork) -> None:
    """On SQLite, take the write lock before reading (what BEGIN IMMEDIATE does): another process's commit
    can then no longer invalidate what this transaction read, so writers queue instead of colliding."""
    connection = await uow.session.connection()
    if connection.dialect.name == "sqlite":
        await connection.execute(_TAKE_WRITE_LOCK)


async def in_unit_of_work(state: AppState, actor: Actor, step: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """``step`` in a committed unit of work; retried (from scratch) after a transient collision."""
    for attempt in range(ATTEMPTS):
        try:
            async with state.unit_of_work(actor) as uow:
                await _write_first(uow)
                return await step(uow)
        except Exception as error:
            if attempt == ATTEMPTS - 1 or not is_transient(error):
                raise
            log.info("routing step retried", attempt=attempt + 1, reason=str(error)[:200])
            await asyncio.sleep(random.uniform(0.002, 0.01) * 2**attempt)
    raise AssertionError("unreachable")
