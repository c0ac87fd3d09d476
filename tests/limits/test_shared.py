"""Limits that hold across processes: two app instances (each with its own engine and store, as two processes
have) on one PostgreSQL database, counting in PostgreSQL, or in Redis when the broker is Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
import httpx2
import pytest
import redis

from callbridge.app import create_app
from callbridge.auth.certificates import KeyPair
from callbridge.config import Settings
from callbridge.events.redis import default_stream
from callbridge.kit.clock import FrozenClock
from callbridge.limits.stores import redis_prefix
from tests.conftest import CALL_CENTER, ORG_ID, seed_call_center
from tests.events import services
from tests.events.conftest import PgDatabase, pg_database, pg_template
from tests.limits.conftest import URL, create_body, entries_of
from tests.transcripts.conftest import INBOUND_KEY, message

__all__ = ["pg_database", "pg_template"]

Auth = Callable[..., dict[str, str]]
Pair = tuple[httpx2.AsyncClient, httpx2.AsyncClient]


@pytest.fixture(params=["postgresql", "redis"])
def store(request: pytest.FixtureRequest, pg_database: PgDatabase) -> str | None:
    """The shared store under test: the broker URL that selects it (None: PostgreSQL, the database itself)."""
    if request.param == "postgresql":
        return None
    services.require_redis()
    return services.REDIS_SERVER


@pytest.fixture
def two_apps(pg_database: PgDatabase, store: str | None, key_pair: KeyPair, clock: FrozenClock) -> Callable[..., Any]:
    @asynccontextmanager
    async def serving(**overrides: Any) -> AsyncIterator[Pair]:
        await seed_call_center(pg_database.url, ORG_ID, CALL_CENTER, [key_pair.certificate_pem])
        settings = Settings(database_url=pg_database.url, broker_url=store, limits="salesforce", **overrides)
        try:
            async with AsyncExitStack() as stack:
                clients = []
                for _ in range(2):
                    app = create_app(settings, clock=clock)
                    await stack.enter_async_context(app.router.lifespan_context(app))
                    transport = httpx2.ASGITransport(app=app)
                    clients.append(
                        await stack.enter_async_context(
                            httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test")
                        )
                    )
                yield clients[0], clients[1]
        finally:
            if store is not None:
                client = redis.Redis.from_url(store)
                keys = list(client.scan_iter(f"{redis_prefix(pg_database.url)}:*"))
                client.delete(default_stream(pg_database.url), *keys)

    return serving


async def test_new_voice_calls_are_counted_across_processes(two_apps: Callable[..., Any], auth: Auth) -> None:
    """At 3 creates per second, creates alternating between two processes: the fourth is refused, wherever
    it lands."""
    async with two_apps(limit_calls_per_second=3) as (first, second):
        statuses = []
        for i in range(5):
            http = first if i % 2 == 0 else second
            statuses.append((await http.post(URL, json=create_body(f"k{i}"), headers=auth())).status_code)
    assert statuses == [200, 200, 200, 429, 429]


async def test_utterances_are_counted_across_processes(two_apps: Callable[..., Any], auth: Auth) -> None:
    """At 1 utterance/s (30 per window): 20 taken by bulk on one process, then on the other a bulk of 5, 5 and 3
    takes the two fives and refuses the three, and a single POST on the first is 429."""
    async with two_apps(limit_utterances_per_second=1) as (first, second):
        assert (await first.post(URL, json=create_body(INBOUND_KEY), headers=auth())).status_code == 200

        def entry(prefix: str, size: int) -> dict[str, Any]:
            return {"vendorCallKey": INBOUND_KEY, "messages": [message(f"{prefix}{i}") for i in range(size)]}

        taken = await first.post(f"{URL}/messages", json={"entries": [entry(p, 5) for p in "abcd"]}, headers=auth())
        assert taken.status_code in (200, 202), taken.text
        mixed = await second.post(
            f"{URL}/messages", json={"entries": [entry("e", 5), entry("f", 5), entry("g", 3)]}, headers=auth()
        )
        single = await first.post(f"{URL}/{INBOUND_KEY}/messages", json=message("h"), headers=auth())
    assert mixed.status_code == 207, mixed.text
    assert ["RESOURCE_EXHAUSTED" in e["message"] for e in entries_of(mixed.json())] == [False, False, True]
    assert single.status_code == 429


async def test_counters_are_unlogged_on_postgresql(pg_database: PgDatabase) -> None:
    """The migration makes rate_limit_counters UNLOGGED: a take commits without waiting for a WAL flush."""
    connection = await asyncpg.connect(**services._connect_args() | {"database": pg_database.name})
    try:
        persistence = await connection.fetchval(
            "SELECT relpersistence::text FROM pg_class WHERE relname = $1", "rate_limit_counters"
        )
    finally:
        await connection.close()
    assert persistence == "u"
