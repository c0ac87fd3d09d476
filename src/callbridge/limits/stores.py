"""Where the per-org windows are counted: this process's memory, PostgreSQL, or Redis.

Every store answers one question atomically: in the window that began at ``window_start`` (epoch seconds), of
the amounts ``sizes`` asked for in order, which fit under ``limit`` given what the window has taken already?
An amount that fits is taken; one that does not takes nothing (a later, smaller one may still fit). Windows
are fixed: each begins at a multiple of its length.

==========================================  ===============================================================
one process (SQLite, no shared broker)      ``MemoryStore``
``CALLBRIDGE_BROKER_URL=redis://...``       ``RedisStore``: one key per window, taken by a Lua script
a PostgreSQL database                       ``PostgresStore``: one row per org and limit, upserted
==========================================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import redis.asyncio
from sqlalchemy import text

from callbridge.events.redis import STREAM_PREFIX, default_stream, split_stream
from callbridge.kit.db import Database

KEY_PREFIX = "callbridge:limits"


class CounterStore(Protocol):
    async def take(
        self, org_id: str, name: str, window_start: int, window_seconds: int, limit: int, sizes: Sequence[int]
    ) -> list[bool]:
        """For each of ``sizes`` in order: whether it fitted (and was taken)."""
        ...

    async def close(self) -> None: ...


def fit(used: int, limit: int, sizes: Sequence[int]) -> tuple[list[bool], int]:
    """Which of ``sizes`` fit after ``used``, taken in order, and the window's total afterwards."""
    granted = []
    for size in sizes:
        fits = used + size <= limit
        if fits:
            used += size
        granted.append(fits)
    return granted, used


class MemoryStore:
    """Counters of this process only: right when it is the only one serving."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # (org, limit) -> (window start, used)

    async def take(
        self, org_id: str, name: str, window_start: int, window_seconds: int, limit: int, sizes: Sequence[int]
    ) -> list[bool]:
        start, used = self._windows.get((org_id, name), (window_start, 0))
        if window_start > start:
            start, used = window_start, 0
        granted, used = fit(used, limit, sizes)
        self._windows[(org_id, name)] = (start, used)
        return granted

    async def close(self) -> None:
        return None


# A window that began later than the stored one replaces it; one that began earlier (a process whose clock is a
# little behind) counts in the stored one.
_TAKE_ONE = text(
    """
    INSERT INTO rate_limit_counters AS c (org_id, limit_name, window_start, used)
    VALUES (:org_id, :name, :window_start, :size)
    ON CONFLICT (org_id, limit_name) DO UPDATE SET
        used = CASE WHEN excluded.window_start > c.window_start THEN excluded.used ELSE c.used + excluded.used END,
        window_start = GREATEST(c.window_start, excluded.window_start)
    WHERE excluded.window_start > c.window_start OR c.used + excluded.used <= :limit
    RETURNING used
    """
)
_ENSURE = text(
    """
    INSERT INTO rate_limit_counters (org_id, limit_name, window_start, used)
    VALUES (:org_id, :name, :window_start, 0)
    ON CONFLICT (org_id, limit_name) DO NOTHING
    """
)
_LOCK = text(
    "SELECT window_start, used FROM rate_limit_counters WHERE org_id = :org_id AND limit_name = :name FOR UPDATE"
)
_SET = text(
    "UPDATE rate_limit_counters SET window_start = :window_start, used = :used "
    "WHERE org_id = :org_id AND limit_name = :name"
)


class PostgresStore:
    """One row per org and limit in ``rate_limit_counters``, shared by every process on the database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def take(
        self, org_id: str, name: str, window_start: int, window_seconds: int, limit: int, sizes: Sequence[int]
    ) -> list[bool]:
        key = {"org_id": org_id, "name": name, "window_start": window_start}
        async with self._database.engine.begin() as connection:
            if len(sizes) == 1:
                if sizes[0] > limit:
                    return [False]
                row = (await connection.execute(_TAKE_ONE, {**key, "size": sizes[0], "limit": limit})).first()
                return [row is not None]
            await connection.execute(_ENSURE, key)
            stored_start, used = (await connection.execute(_LOCK, key)).one()
            if window_start > stored_start:
                used = 0
            granted, used = fit(used, limit, sizes)
            await connection.execute(_SET, {**key, "window_start": max(window_start, stored_start), "used": used})
            return granted

    async def close(self) -> None:
        return None


_TAKE_SCRIPT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
local granted = {}
for i = 3, #ARGV do
    local size = tonumber(ARGV[i])
    if used + size <= limit then
        used = used + size
        granted[#granted + 1] = 1
    else
        granted[#granted + 1] = 0
    end
end
redis.call('SET', KEYS[1], used, 'EX', tonumber(ARGV[2]))
return granted
"""


def redis_prefix(database_url: str) -> str:
    """``callbridge:limits:<database>``: the processes of one deployment share it, as they share its stream."""
    return f"{KEY_PREFIX}:{default_stream(database_url).removeprefix(STREAM_PREFIX + ':')}"


class RedisStore:
    """One key per org, limit and window (expiring after two windows), taken by one script call."""

    def __init__(self, url: str, prefix: str) -> None:
        plain_url, _stream = split_stream(url)
        self.prefix = prefix
        self._client: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
            plain_url, socket_timeout=5, socket_connect_timeout=5, client_name="callbridge-limits"
        )
        self._script = self._client.register_script(_TAKE_SCRIPT)

    async def take(
        self, org_id: str, name: str, window_start: int, window_seconds: int, limit: int, sizes: Sequence[int]
    ) -> list[bool]:
        key = f"{self.prefix}:{name}:{org_id}:{window_start}"
        granted = await self._script(keys=[key], args=[limit, 2 * window_seconds + 1, *sizes])
        return [bool(int(value)) for value in granted]

    async def close(self) -> None:
        await self._client.aclose()


def store_for(broker_url: str | None, database: Database) -> CounterStore:
    """Redis when the broker is Redis, else PostgreSQL when the database is, else this process's memory."""
    scheme = (broker_url or "").partition("://")[0].lower()
    if scheme.startswith("redis"):
        return RedisStore(broker_url or "", redis_prefix(database.url))
    if database.engine.dialect.name == "postgresql":
        return PostgresStore(database)
    return MemoryStore()
