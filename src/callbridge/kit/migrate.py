"""Running the packaged Alembic migrations without an alembic.ini on disk."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

import callbridge.migrations
from callbridge.kit.db import create_engine


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(callbridge.migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def _outside_event_loop(fn: Callable[..., Any], *args: Any) -> Any:
    """Alembic's async env calls ``asyncio.run``, which cannot nest inside a running loop: use a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed back to the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (every head by default)."""
    _outside_event_loop(command.upgrade, alembic_config(database_url), revision)


def head_revisions(database_url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


def current_revisions(database_url: str) -> set[str]:
    """The revisions the database is at: empty for an empty database."""

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async def read() -> set[str]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(current)
        finally:
            await engine.dispose()

    result: set[str] = _outside_event_loop(lambda: asyncio.run(read()))
    return result


def is_current(database_url: str) -> bool:
    """True when the schema is at every head: the server may start."""
    return current_revisions(database_url) == head_revisions(database_url)
