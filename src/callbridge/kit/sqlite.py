"""SQLite without a thread hop: the ``sqlite+aiosqlite`` dialect driven by connections that run each statement
at once on the event loop's thread.

aiosqlite runs every call (cursor, execute, fetch, close: four per statement) on a thread of its own and hands
the result back through the event loop. Each hand-off costs about 0.1 ms of CPU when the loop is idle, and up
to the interpreter's 5 ms switch interval when it is busy, while SQLite answers the statements of this server
in a few microseconds (WAL, ``synchronous=NORMAL``, small indexed reads and writes). Running them inline is
many times cheaper; the price is that the loop waits while SQLite works, which only matters for statements that
wait, so:

- the connection's busy timeout is 0: a statement that finds the database locked by another process (a
  ``callbridge apply``, a second worker) fails at once, and is then retried on a worker thread with the long
  busy timeout, so the loop never waits for another process's lock;
- SQLite's automatic checkpoint (which copies the WAL into the database and syncs it to disk) is off on these
  connections; ``Checkpointer`` runs it on a worker thread after enough commits instead.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
# Pages the WAL may grow by between two checkpoints (SQLite's own automatic checkpoint is at 1,000 pages).
CHECKPOINT_PAGES = 1000
# And the longest time between two checkpoints while commits happen.
CHECKPOINT_SECONDS = 1.0


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's isolation-level setter uses directly: the
    request runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection:
    """What SQLAlchemy's aiosqlite adapter needs of an ``aiosqlite.Connection``, statements run inline."""

    def __init__(
        self, connection: sqlite3.Connection, checkpointer: Checkpointer | None, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> None:
        self._conn = connection
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: sqlite3.Connection | None = connection
        self._tx = _RunNow()
        self._checkpointer = checkpointer

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` at once; when another process holds the lock, again on a thread, waiting for it."""
        try:
            return function(*args)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        self._conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return await asyncio.get_running_loop().run_in_executor(None, function, *args)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        in_transaction = self._conn.in_transaction
        await self.run(self._conn.commit)
        if in_transaction and self._checkpointer is not None:
            self._checkpointer.committed()

    async def rollback(self) -> None:
        await self.run(self._conn.rollback)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class InlineCursor:
    """A DB-API cursor whose calls are awaitable, as SQLAlchemy's adapter expects of aiosqlite's."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()
        self.arraysize = 1

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        await self._connection.run(self._cursor.execute, sql, parameters)
        if self._connection._checkpointer is not None and not self._connection._conn.in_transaction:
            self._connection._checkpointer.committed()  # a statement outside a transaction commits by itself
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any] | dict[str, Any]]) -> InlineCursor:
        await self._connection.run(self._cursor.executemany, sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        return await self._connection.run(self._cursor.fetchall)

    async def fetchone(self) -> Any:
        return await self._connection.run(self._cursor.fetchone)

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return await self._connection.run(self._cursor.fetchmany, size or self.arraysize)

    async def close(self) -> None:
        self._cursor.close()


class Checkpointer:
    """Checkpoints one database file's WAL on a worker thread, at most one at a time: after ``CHECKPOINT_PAGES``
    commits (a cheap proxy for pages written: each commit writes at least one), or once ``CHECKPOINT_SECONDS``
    have passed since the last one with commits in between. Group commit makes commits few and large, so a
    count alone let the WAL grow by a hundred megabytes between checkpoints, each then a long burst of I/O
    that stalled the requests of its moment; a time bound keeps every checkpoint small."""

    def __init__(self, path: str, ticker: Callable[[], float] = time.monotonic) -> None:
        self._path = path
        self._ticker = ticker
        self._commits = 0
        self._last = ticker()
        self._running: asyncio.Future[None] | None = None

    def committed(self) -> None:
        self._commits += 1
        if self._running is not None and not self._running.done():
            return
        now = self._ticker()
        if self._commits >= CHECKPOINT_PAGES or now - self._last >= CHECKPOINT_SECONDS:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._commits = 0
            self._last = now
            self._running = loop.run_in_executor(None, self._checkpoint)

    def _checkpoint(self) -> None:
        connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()


def inline_creator(
    path: str, checkpointer: Checkpointer, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: connections to the SQLite file at ``path``, waiting up
    to ``busy_timeout_ms`` for another process's lock."""

    async def connect() -> InlineConnection:
        connection = sqlite3.connect(path, timeout=0, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA wal_autocheckpoint=0")
        return InlineConnection(connection, checkpointer, busy_timeout_ms)

    return connect
