"""SQLite statements run inline on the event loop, but another process's lock is waited for on a thread."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from callbridge.kit.db import Database
from callbridge.models import ConfigRevision


@pytest.fixture
def database_url(tmp_path: Path, template_database: Path) -> str:
    """These tests are about SQLite's inline connections: a SQLite file even when the suite runs on PostgreSQL."""
    path = tmp_path / "callbridge.db"
    shutil.copyfile(template_database, path)
    return f"sqlite+aiosqlite:///{path}"


async def test_a_write_waits_for_another_connections_lock_without_blocking_the_loop(database_url: str) -> None:
    """While another connection holds the write lock, a write through the Database waits (it does not fail) and
    the event loop keeps running other tasks; once the lock is released the write commits."""
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    database = Database(database_url)
    try:

        async def write() -> None:
            async with database.write_session() as session:
                await session.execute(
                    text(
                        "INSERT INTO config_revisions (applied_at, source, sha256, changes) "
                        "VALUES ('2026-01-01 00:00:00', 'test', 'x', '[]')"
                    )
                )
                await session.commit()

        writing = asyncio.create_task(write())
        turns = 0
        while not writing.done() and turns < 50:  # the loop runs other work while the write waits
            await asyncio.sleep(0)
            turns += 1
        assert turns == 50 and not writing.done()
        blocker.execute("COMMIT")
        await writing
        async with database.read_session() as session:
            assert await session.scalar(select(func.count()).select_from(ConfigRevision)) == 1
    finally:
        blocker.close()
        await database.dispose()


async def test_reads_and_writes_round_trip(database_url: str) -> None:
    """The inline connections behave as a DB-API driver: parameters, rows, rowcount, rollback."""
    database = Database(database_url)
    try:
        async with database.write_session() as session:
            await session.execute(
                text("INSERT INTO config_revisions (applied_at, source, sha256, changes) VALUES (:a, :s, :h, '[]')"),
                [{"a": "2026-01-01 00:00:00", "s": f"s{n}", "h": "x"} for n in range(3)],
            )
            await session.rollback()
        async with database.write_session() as session:
            result = await session.execute(
                text("INSERT INTO config_revisions (applied_at, source, sha256, changes) VALUES (:a, :s, :h, '[]')"),
                {"a": "2026-01-01 00:00:00", "s": "kept", "h": "x"},
            )
            assert getattr(result, "rowcount", None) == 1
            await session.commit()
        async with database.read_session() as session:
            sources = (await session.scalars(select(ConfigRevision.source))).all()
        assert sources == ["kept"]
    finally:
        await database.dispose()
