"""Engine, sessions, the declarative base and the portable column types.

SQL stays portable: everything here works on SQLite (the embedded default) and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from asyncio import CancelledError
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from callbridge.errors import ServiceUnavailable
from callbridge.kit import sqlite

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An auto-incrementing 64-bit key on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BigIntegerPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, timeout: float | None = None) -> AsyncEngine:
    """An async engine that never puts a statement's parameters (transcript text, usernames) in an error's
    message, so no log line carries them; on SQLite with WAL, NORMAL sync and foreign keys, its statements run
    inline on the event loop (``callbridge.kit.sqlite``), waiting for other processes' locks on a worker thread.

    ``timeout`` bounds every wait on the database (None: the drivers' defaults, for the CLI and migrations): on
    PostgreSQL connecting (asyncpg's ``timeout``), each statement (``command_timeout`` on the client, and
    ``statement_timeout`` / ``lock_timeout`` on the server) and waiting for a pooled connection; on SQLite waiting
    for another process's lock.
    """
    if not is_sqlite(url):
        if timeout is None:
            return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)
        milliseconds = str(max(1, int(timeout * 1000)))
        connect_args = {
            "timeout": timeout,
            "command_timeout": timeout,
            "server_settings": {"statement_timeout": milliseconds, "lock_timeout": milliseconds},
        }
        return create_async_engine(
            url,
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            pool_timeout=timeout,
            connect_args=connect_args,
            hide_parameters=True,
        )
    busy_ms = sqlite.BUSY_TIMEOUT_MS if timeout is None else max(1, int(timeout * 1000))
    database = make_url(url).database or ""
    inline = database not in ("", ":memory:") and not database.startswith("file:")
    if inline:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Statements run on the loop's thread (callbridge.kit.sqlite): no thread hop, no waiting on locks inline.
        creator = sqlite.inline_creator(database, sqlite.Checkpointer(database), busy_timeout_ms=busy_ms)
        engine = create_async_engine(
            url,
            async_creator=creator,
            pool_size=10,
            max_overflow=20,
            pool_timeout=timeout or 30.0,
            hide_parameters=True,
        )
    else:
        engine = create_async_engine(url, connect_args={"timeout": busy_ms / 1000}, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not inline:  # inline connections wait for locks on a worker thread instead
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()
        # The driver's own implicit BEGIN breaks SAVEPOINT; SQLAlchemy emits BEGIN itself (see below).
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


# Held by every transaction that writes timeline entries, from right before it inserts them until its COMMIT.
TIMELINE_LOCK = 0x43420001
_TAKE_TIMELINE_LOCK = text(f"SELECT pg_advisory_xact_lock({TIMELINE_LOCK})")


async def lock_timeline(session: AsyncSession) -> None:
    """Make timeline ids follow commit order; call right before inserting timeline entries, as the last
    statements of the transaction.

    On PostgreSQL an id is drawn from a sequence when its row is inserted, and transactions commit in another
    order: a console could see 120 before 118 commits, then drop 118 as a duplicate (ids only grow). Under this
    lock, held until COMMIT, the next writer draws its ids only after this one committed. Taken last, after every
    other row was written, it never waits while holding what another writer waits for. SQLite allows one writer
    at a time anyway: nothing to do.
    """
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(_TAKE_TIMELINE_LOCK)


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached right now (down, restarting, refusing connections, or the connection
    dropped mid-request): nothing of the request was committed, and the client may retry."""

    def __init__(self, message: str = "The database is unavailable; retry after a second.") -> None:
        super().__init__(message)


class DatabaseTimeout(DatabaseUnavailable):
    """The database did not answer within ``CALLBRIDGE_DATABASE_TIMEOUT_SECONDS`` (hung, or too busy)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The database did not answer within {seconds:g} s; retry after a second.")


# Shutdown, crash, starting, too many connections; statement_timeout and lock_timeout (the database too slow).
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "57014", "55P03"})


def is_unavailable(error: BaseException) -> bool:
    """Whether an error means the database is out of reach (answer 503), rather than a bug: nothing listens, the
    connection dropped, or the database did not answer within ``CALLBRIDGE_DATABASE_TIMEOUT_SECONDS``."""
    if isinstance(error, ConnectionError | TimeoutError | DatabaseUnavailable):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error.orig, ConnectionError | TimeoutError):
        return True
    state = str(getattr(error.orig, "sqlstate", "") or "")
    message = str(error.orig)
    return (
        state.startswith("08")
        or state in _UNAVAILABLE_SQLSTATES
        or "not currently accepting connections" in message
        # SQLite: another process held its lock longer than the busy timeout.
        or (isinstance(error, OperationalError) and message in ("database is locked", "database is busy"))
    )


# The task whose database deadline is running: a session it opens inside another keeps the outer deadline (a task
# started meanwhile inherits the variable, but is another task, so its sessions get deadlines of their own).
_deadline_task: ContextVar[asyncio.Task[Any] | None] = ContextVar("database_deadline_task", default=None)

# How often a task past its deadline is cancelled again, while it still waits on the database to clean up.
_RECANCEL_SECONDS = 0.05


class Deadline:
    """``async with Deadline(seconds)``: past ``seconds``, what runs inside is cancelled and ``DatabaseTimeout``
    (503 with Retry-After) is raised.

    The drivers' own timeouts bound each connect and each statement, but not their sum: asyncpg's command
    timeout surfaces as a bare ``TimeoutError``, and SQLAlchemy's clean-up after a failure waits on the hung
    connection again (the pre-ping's rollback, a graceful close). So, unlike ``asyncio.timeout``, the task is
    cancelled again every 50 ms until it left the block: each wait of the clean-up is cut short, the
    connection is dropped (SQLAlchemy invalidates what a cancellation interrupted) and the request is answered.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._cancels = 0

    async def __aenter__(self) -> Deadline:
        self._task = asyncio.current_task()
        self._handle = asyncio.get_running_loop().call_later(self.seconds, self._expire)
        return self

    def _expire(self) -> None:
        assert self._task is not None
        self._cancels += 1
        self._task.cancel()
        self._handle = asyncio.get_running_loop().call_later(_RECANCEL_SECONDS, self._expire)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        assert self._task is not None and self._handle is not None
        self._handle.cancel()
        if not self._cancels:
            if exc_type is not None and issubclass(exc_type, TimeoutError):  # asyncpg's command_timeout
                raise DatabaseTimeout(self.seconds) from exc
            return
        for _ in range(self._cancels):
            self._task.uncancel()
        # Cancelled from outside as well (the server stopping): that cancellation goes on.
        if (
            self._task.cancelling() == 0
            and exc_type is not None
            and issubclass(exc_type, CancelledError | TimeoutError)
        ):
            raise DatabaseTimeout(self.seconds) from exc


class Database:
    """The engine and session factory of one process.

    SQLite takes one writer at a time; writers in this process queue on a lock instead of on SQLite's
    busy handler, which keeps latency flat. PostgreSQL needs no such lock.
    """

    def __init__(self, url: str, timeout: float | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.engine = create_engine(url, timeout)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._write_lock = asyncio.Lock() if is_sqlite(url) else None

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller commits; serialised per process on SQLite."""
        if self._write_lock is None:
            async with self._bounded_session() as session:
                yield session
            return
        async with self._write_lock, self._bounded_session() as session:
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        async with self._bounded_session() as session:
            yield session

    @asynccontextmanager
    async def _bounded_session(self) -> AsyncIterator[AsyncSession]:
        """A session bounded by the database timeout (``Deadline``). A session opened inside another one's
        deadline keeps the outer deadline."""
        task = asyncio.current_task()
        if self.timeout is None or _deadline_task.get() is task:
            async with self.sessionmaker() as session:
                yield session
            return
        token = _deadline_task.set(task)
        try:
            async with Deadline(self.timeout), self.sessionmaker() as session:
                yield session
        finally:
            _deadline_task.reset(token)

    async def dispose(self) -> None:
        await self.engine.dispose()
