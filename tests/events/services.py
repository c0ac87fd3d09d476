"""The PostgreSQL and Redis servers the shared-broker tests run against (this machine's, and CI's), throwaway
databases and stream keys on them, and a private Redis a test may stop and start.

PostgreSQL: the server of ``CALLBRIDGE_TEST_POSTGRES_URL`` when set, else ``postgres@127.0.0.1:5432``.
Redis: ``CALLBRIDGE_TEST_REDIS_URL`` when set, else ``redis://127.0.0.1:6379/0``. Tests that need one skip,
saying which, only when it does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
import redis
from sqlalchemy.engine import make_url

from callbridge.kit import migrate

POSTGRES_SERVER = (
    os.environ.get("CALLBRIDGE_TEST_POSTGRES_URL") or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER = os.environ.get("CALLBRIDGE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"


def _connect_args() -> dict[str, object]:
    url = make_url(POSTGRES_SERVER)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }


async def admin(*statements: str) -> None:
    """Run statements on the PostgreSQL server's maintenance database."""
    connection = await asyncpg.connect(**_connect_args(), timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def database_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    return make_url(POSTGRES_SERVER).set(drivername=driver, database=name).render_as_string(hide_password=False)


def postgres_unreachable() -> str | None:
    """Why PostgreSQL tests cannot run (None when they can)."""
    try:
        asyncio.run(admin("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL at {make_url(POSTGRES_SERVER).render_as_string()} does not answer: {exc}"
    return None


def redis_unreachable() -> str | None:
    try:
        redis.Redis.from_url(REDIS_SERVER, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis at {REDIS_SERVER} does not answer: {exc}"
    return None


def require_postgres() -> None:
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)


def require_redis() -> None:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)


@contextmanager
def migrated_template(prefix: str) -> Iterator[str]:
    """A migrated database to clone test databases from; dropped afterwards."""
    name = f"{prefix}_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        migrate.upgrade(database_url(name))
        yield name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def throwaway_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database (a copy of ``template``, or empty), dropped afterwards: its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(admin(f'CREATE DATABASE "{name}"{clone}'))
    try:
        yield name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.asynccontextmanager
async def new_database(prefix: str, template: str | None = None) -> AsyncIterator[str]:
    """``throwaway_database`` inside an event loop."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    await admin(f'CREATE DATABASE "{name}"{clone}')
    try:
        yield name
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def terminate_connections(database: str, *, application_name: str | None = None) -> int:
    """Terminate the connections to ``database`` (of one application name, or all); how many."""
    connection = await asyncpg.connect(**_connect_args(), timeout=5)
    try:
        query = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()"
        )
        if application_name is None:
            return int(await connection.fetchval(query, database))
        return int(await connection.fetchval(query + " AND application_name = $2", database, application_name))
    finally:
        await connection.close()


async def allow_connections(database: str, allowed: bool) -> None:
    """Let new connections to ``database`` in or turn them away (existing ones are not touched)."""
    await admin(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stream_key(prefix: str = "callbridge:test") -> str:
    return f"{prefix}:{uuid.uuid4().hex[:12]}"


def delete_stream(url: str, key: str) -> None:
    with contextlib.suppress(Exception):
        redis.Redis.from_url(url, socket_connect_timeout=2).delete(key)


class PrivateRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk, that the test may stop and start
    again (on the same port)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(
            [binary, *arguments, "--dir", str(self._directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None
