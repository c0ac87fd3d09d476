"""GET /healthz (alive) and GET /readyz (database and broker answer), including real unreachable databases."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.events.broker import InProcessBroker


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def get(settings: Settings, path: str, *, until: int | None = None, **create: Any) -> Answer:
    """A request to an app started on ``settings`` (its routing timer off), and how long the request took; with
    ``until``, repeated for up to 10 s until it answers that status (a shared broker connects after startup)."""
    app = create_app(settings.model_copy(update={"routing_tick_seconds": 0}), **create)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            for _ in range(100):
                started = time.perf_counter()
                response = await http.get(path)
                answer = Answer(response, time.perf_counter() - started)
                if until is None or response.status_code == until:
                    break
                await asyncio.sleep(0.1)
            return answer


@dataclass
class Answer:
    response: httpx2.Response
    seconds: float


class StoppedBroker(InProcessBroker):
    """A broker whose server went away: publishing and pinging fail as a lost connection does."""

    async def ping(self) -> None:
        raise ConnectionRefusedError("broker connection refused")


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers: a hung database."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_healthz_answers_without_auth_or_database() -> None:
    """/healthz is 200 {"status": "ok"} even when the database is unreachable: it says the process is alive."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/callbridge"
    response = (await get(Settings(database_url=url), "/healthz")).response
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_database_and_broker_answer(settings: Settings) -> None:
    """With the test database (SQLite, or PostgreSQL in the CI leg) and the broker up: 200, both checks up."""
    response = (await get(settings, "/readyz", until=200)).response
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["down"] == []
    assert {name: check["status"] for name, check in body["checks"].items()} == {"database": "up", "broker": "up"}


async def test_readyz_is_503_naming_a_refused_database() -> None:
    """A PostgreSQL URL on a port nothing listens on: 503, the database named down with the driver's error."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/callbridge"
    response = (await get(Settings(database_url=url), "/readyz")).response
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unavailable" and body["down"] == ["database"]
    assert body["checks"]["database"]["status"] == "down"
    assert "Connect" in body["checks"]["database"]["error"] or "refused" in body["checks"]["database"]["error"]
    assert body["checks"]["broker"]["status"] == "up"


async def test_readyz_gives_up_on_a_hung_database_after_the_timeout(silent_server: int) -> None:
    """A database that accepts the connection and never answers is down after ready_timeout_seconds."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_server}/callbridge"
    # The in-process broker: the default one on PostgreSQL reads the newest event id at startup, and would wait for
    # the hung database there first (asyncpg's connect timeout, 60 s) before /readyz could be asked anything.
    settings = Settings(database_url=url, ready_timeout_seconds=0.3)
    answer = await get(settings, "/readyz", broker=InProcessBroker())
    assert answer.seconds < 3
    response = answer.response
    assert response.status_code == 503, response.text
    assert response.json()["checks"]["database"]["error"] == "no answer within 0.3 s"


async def test_readyz_is_503_naming_a_stopped_broker(settings: Settings) -> None:
    """The database answers but the broker does not: 503 with only the broker down."""
    response = (await get(settings, "/readyz", broker=StoppedBroker())).response
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["down"] == ["broker"]
    assert body["checks"]["broker"]["error"] == "ConnectionRefusedError: broker connection refused"
    assert body["checks"]["database"]["status"] == "up"
