"""A database out of reach is a 503 with Retry-After, never a 500: refused connections, connections cut
mid-request, a server starting or stopping. Any other database error stays a bug."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.kit.db import is_unavailable
from tests.events import services


class _Driver(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(cls: type[DBAPIError], message: str, sqlstate: str | None = None, **options: Any) -> DBAPIError:
    return cls("SELECT 1", {}, _Driver(message, sqlstate), **options)


def test_what_counts_as_the_database_being_away() -> None:
    assert is_unavailable(ConnectionRefusedError(111, "Connect call failed"))
    assert is_unavailable(_wrapped(DBAPIError, "the connection is closed", connection_invalidated=True))
    assert is_unavailable(_wrapped(DBAPIError, 'database "x" is not currently accepting connections', "55000"))
    assert is_unavailable(_wrapped(DBAPIError, "the database system is starting up", "57P03"))
    assert is_unavailable(_wrapped(OperationalError, "terminating connection due to administrator command", "57P01"))
    assert not is_unavailable(_wrapped(IntegrityError, "duplicate key value", "23505"))
    assert is_unavailable(_wrapped(OperationalError, "database is locked"))  # past the busy timeout
    assert is_unavailable(_wrapped(DBAPIError, "canceling statement due to statement timeout", "57014"))
    assert is_unavailable(_wrapped(DBAPIError, "canceling statement due to lock timeout", "55P03"))
    assert is_unavailable(TimeoutError())  # asyncpg's command_timeout
    assert not is_unavailable(_wrapped(OperationalError, "no such table: voice_call"))
    assert not is_unavailable(ValueError("a bug"))


@pytest.fixture(scope="module")
def template() -> Iterator[str]:
    services.require_postgres()
    with services.migrated_template("callbridge_outage") as name:
        yield name


@pytest.fixture
def database(template: str) -> Iterator[str]:
    with services.throwaway_database("callbridge_outage", template) as name:
        yield name


@pytest.fixture
async def client(database: str) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(Settings(database_url=services.database_url(database)))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            yield http


async def test_requests_get_503_while_the_database_turns_connections_away(
    client: httpx2.AsyncClient, database: str
) -> None:
    """Connections cut and refused: the API answers 503 SERVICE_UNAVAILABLE with Retry-After, /readyz says the
    database is down; once it takes connections again, both answer as before without a restart."""
    assert (await client.get("/readyz")).status_code == 200
    await services.allow_connections(database, False)
    try:
        await services.terminate_connections(database)
        response = await client.post("/console/v1/session", json={"username": "a@example.com", "password": "x"})
        assert response.status_code == 503, response.text
        assert (response.json()["code"], response.headers["retry-after"]) == ("SERVICE_UNAVAILABLE", "1")
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "database" in ready.json()["down"]
    finally:
        await services.allow_connections(database, True)
    assert (await client.get("/readyz")).status_code == 200
    refused = await client.post("/console/v1/session", json={"username": "a@example.com", "password": "x"})
    assert refused.status_code == 401, refused.text
