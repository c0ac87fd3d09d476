"""Readiness: can this process serve requests now? Its database answers and its broker is reachable, each
within a short timeout so that a hung dependency reads as down instead of hanging the probe."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import structlog
from sqlalchemy import text

from callbridge.events.broker import Broker
from callbridge.kit.db import Database
from callbridge.kit.state import AppState

log = structlog.get_logger()


@dataclass(frozen=True)
class Check:
    name: str
    up: bool
    seconds: float
    error: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "up" if self.up else "down", "seconds": round(self.seconds, 4)}
        if self.error is not None:
            body["error"] = self.error
        return body


@dataclass(frozen=True)
class Readiness:
    checks: list[Check]

    @property
    def ready(self) -> bool:
        return all(check.up for check in self.checks)

    @property
    def down(self) -> list[str]:
        return [check.name for check in self.checks if not check.up]

    def body(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "unavailable",
            "down": self.down,
            "checks": {check.name: check.body() for check in self.checks},
        }


async def ping_database(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def ping_broker(broker: Broker) -> None:
    await broker.ping()


_abandoned: set[asyncio.Task[None]] = set()


async def _check(name: str, probe: Callable[[], Awaitable[None]], within: float) -> Check:
    """The probe's answer within ``within`` seconds, always: it runs as a task of its own that is cancelled and
    left to finish in the background when late (a hung driver's clean-up may wait on the hung server again)."""
    start = perf_counter()
    task = asyncio.ensure_future(probe())
    done, _ = await asyncio.wait({task}, timeout=within)
    if not done:
        task.cancel()
        _abandoned.add(task)
        task.add_done_callback(_forget)
        return Check(name, False, perf_counter() - start, f"no answer within {within:g} s")
    error = task.exception()
    if error is not None:  # any failure to answer is "down"; the message says which
        return Check(name, False, perf_counter() - start, f"{type(error).__name__}: {error}"[:300])
    return Check(name, True, perf_counter() - start)


def _forget(task: asyncio.Task[None]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a late failure is expected, not "never retrieved"


async def readiness(state: AppState) -> Readiness:
    """Probe the database and the broker concurrently."""
    timeout = state.settings.ready_timeout_seconds
    checks = await asyncio.gather(
        _check("database", lambda: ping_database(state.database), timeout),
        _check("broker", lambda: ping_broker(state.broker), timeout),
    )
    result = Readiness(list(checks))
    if not result.ready:
        log.warning("not ready", down=result.down, errors={c.name: c.error for c in checks if c.error})
    return result
