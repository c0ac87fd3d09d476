"""A hung database (PostgreSQL frozen, here a proxy that stops forwarding) never hangs requests: they get 503
with Retry-After within CALLBRIDGE_DATABASE_TIMEOUT_SECONDS, /readyz answers within its own timeout, and once
the database answers again so does the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.engine import make_url

from callbridge.app import create_app
from callbridge.auth.certificates import KeyPair
from callbridge.config import Settings
from callbridge.events.broker import InProcessBroker
from tests.conftest import CALL_CENTER, ORG_ID, TokenFactory, seed_call_center
from tests.events import services
from tests.routing.conftest import ALICE, PASSWORD, apply_config
from tests.security.blackhole import BlackHoleProxy
from tests.voice_calls.conftest import payload

TIMEOUT = 1.0
READY_TIMEOUT = 0.5
SLACK = 1.0  # what the issue allows beyond the timeout


@pytest.fixture(scope="module")
def template() -> Iterator[str]:
    services.require_postgres()
    with services.migrated_template("callbridge_hung") as name:
        yield name


@pytest.fixture
async def proxy() -> AsyncIterator[BlackHoleProxy]:
    server = make_url(services.POSTGRES_SERVER)
    hole = BlackHoleProxy(server.host or "127.0.0.1", server.port or 5432)
    await hole.start()
    try:
        yield hole
    finally:
        await hole.stop()


@pytest.fixture
async def client(
    template: str, proxy: BlackHoleProxy, tmp_path: Path, key_pair: KeyPair
) -> AsyncIterator[httpx2.AsyncClient]:
    """The app on a fresh PostgreSQL database reached through the proxy, with the contact centre applied."""
    async with services.new_database("callbridge_hung", template) as name:
        direct = services.database_url(name)
        await seed_call_center(direct, ORG_ID, CALL_CENTER, [key_pair.certificate_pem])
        await apply_config(direct, tmp_path, key_pair)
        url = make_url(direct).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        settings = Settings(
            database_url=url,
            database_timeout_seconds=TIMEOUT,
            ready_timeout_seconds=READY_TIMEOUT,
            auth_cache_seconds=0,
        )
        app = create_app(settings, broker=InProcessBroker())
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
                yield http


def telephony_headers(make_token: TokenFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token()}", "Content-Type": "application/json"}


async def timed(request: object) -> tuple[httpx2.Response, float]:
    start = time.perf_counter()
    response = await request  # type: ignore[misc]
    return response, time.perf_counter() - start


def assert_unavailable(response: httpx2.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    body = response.json()
    assert body["code"] and body["message"] and body["errors"] == []
    assert seconds < TIMEOUT + SLACK, f"answered after {seconds:.2f} s"


async def test_telephony_create_gets_503_within_the_timeout(
    client: httpx2.AsyncClient, proxy: BlackHoleProxy, make_token: TokenFactory
) -> None:
    """A create (the group-commit writer's path) on a hung database: 503 + Retry-After within timeout + 1 s."""
    warm = await client.post(
        "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=telephony_headers(make_token)
    )
    assert warm.status_code == 200, warm.text
    proxy.hold()
    body = payload("lambda_create_inbound", vendorCallKey="0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6")
    response, seconds = await timed(
        client.post("/telephony/v1/voiceCalls", json=body, headers=telephony_headers(make_token))
    )
    assert_unavailable(response, seconds)


async def test_telephony_read_gets_503_within_the_timeout(
    client: httpx2.AsyncClient, proxy: BlackHoleProxy, make_token: TokenFactory
) -> None:
    """A read of a call on a hung database: 503 + Retry-After within timeout + 1 s."""
    created = await client.post(
        "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=telephony_headers(make_token)
    )
    call_id = created.json()["voiceCallId"]
    proxy.hold()
    response, seconds = await timed(
        client.get(f"/telephony/v1/voiceCalls/{call_id}", headers=telephony_headers(make_token))
    )
    assert_unavailable(response, seconds)


async def test_console_sign_in_gets_503_within_the_timeout(client: httpx2.AsyncClient, proxy: BlackHoleProxy) -> None:
    """A console sign-in on a hung database: 503 + Retry-After within timeout + 1 s."""
    proxy.hold()
    request = client.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    response, seconds = await timed(request)
    assert_unavailable(response, seconds)


async def test_console_request_with_a_session_gets_503_within_the_timeout(
    client: httpx2.AsyncClient, proxy: BlackHoleProxy
) -> None:
    """A signed-in agent's request on a hung database: 503 + Retry-After within timeout + 1 s."""
    signed_in = await client.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    proxy.hold()
    response, seconds = await timed(client.put("/console/v1/presence", json={"status": "Available"}, headers=headers))
    assert_unavailable(response, seconds)


async def test_readyz_says_not_ready_within_its_timeout(client: httpx2.AsyncClient, proxy: BlackHoleProxy) -> None:
    """/readyz on a hung database: 503 naming the database, within ready_timeout_seconds (+ a little)."""
    assert (await client.get("/readyz")).status_code == 200
    proxy.hold()
    response, seconds = await timed(client.get("/readyz"))
    assert response.status_code == 503, response.text
    assert "database" in response.json()["down"]
    assert seconds < READY_TIMEOUT + 0.5, f"answered after {seconds:.2f} s"


async def test_requests_succeed_again_once_the_database_answers(
    client: httpx2.AsyncClient, proxy: BlackHoleProxy, make_token: TokenFactory
) -> None:
    """After the hang ends, /readyz, console and telephony answer as before without a restart (a client that
    retries on 503 as told gets through within a few seconds)."""
    proxy.hold()
    hung = await client.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    assert hung.status_code == 503
    proxy.resume()
    ready = await until_not_503(lambda: client.get("/readyz"))
    assert ready.status_code == 200, ready.text
    signed_in = await until_not_503(
        lambda: client.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    )
    assert signed_in.status_code == 200, signed_in.text
    created = await until_not_503(
        lambda: client.post(
            "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=telephony_headers(make_token)
        )
    )
    assert created.status_code == 200, created.text


async def until_not_503(request: Callable[[], Awaitable[httpx2.Response]], within: float = 10) -> httpx2.Response:
    """The first answer that is not a 503, retrying as Retry-After says (for at most ``within`` seconds)."""
    deadline = time.monotonic() + within
    while True:
        response = await request()
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def test_a_batch_of_creates_fails_together_within_the_timeout(
    client: httpx2.AsyncClient, proxy: BlackHoleProxy, make_token: TokenFactory
) -> None:
    """Concurrent creates batched by the writer on a hung database: every one 503 within timeout + 1 s (not
    retried one by one), and each succeeds when retried after the hang, stored once."""
    warm = await client.post(
        "/telephony/v1/voiceCalls", json=payload("lambda_create_inbound"), headers=telephony_headers(make_token)
    )
    assert warm.status_code == 200, warm.text
    keys = [f"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5{n:02d}" for n in range(8)]
    proxy.hold()
    start = time.perf_counter()
    responses = await asyncio.gather(
        *(
            client.post(
                "/telephony/v1/voiceCalls",
                json=payload("lambda_create_inbound", vendorCallKey=key),
                headers=telephony_headers(make_token),
            )
            for key in keys
        )
    )
    seconds = time.perf_counter() - start
    for response in responses:
        assert_unavailable(response, seconds)
    proxy.resume()
    for key in keys:
        retried = await client.post(
            "/telephony/v1/voiceCalls",
            json=payload("lambda_create_inbound", vendorCallKey=key),
            headers=telephony_headers(make_token),
        )
        assert retried.status_code == 200, retried.text
        read = await client.get(f"/telephony/v1/voiceCalls/{key}", headers=telephony_headers(make_token))
        assert read.status_code == 200 and read.json()["id"] == retried.json()["voiceCallId"]
