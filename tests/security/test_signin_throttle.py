"""Console sign-in throttling: 5 failures per username and 20 per client address within 60 s, then 429
SIGN_IN_THROTTLED with Retry-After; shared by every process through the database; every failure and every
throttled attempt audited in the log without the password."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from callbridge.kit.clock import FrozenClock
from tests.routing.conftest import ALICE, BRUNO, PASSWORD, app, clock, contact_center, second_app

__all__ = ["app", "clock", "contact_center", "second_app"]

WRONG = "not the password"


def sign_in(http: httpx2.AsyncClient, username: str, password: str = WRONG) -> asyncio.Future[httpx2.Response]:
    return asyncio.ensure_future(http.post("/console/v1/session", json={"username": username, "password": password}))


@pytest.fixture
async def elsewhere(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """The same app, seen from another client address."""
    transport = httpx2.ASGITransport(app=app, client=("198.51.100.7", 50000))
    async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
        yield http


async def fail(http: httpx2.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        response = await sign_in(http, username)
        assert response.status_code == 401, response.text


async def test_the_sixth_failure_for_a_username_is_refused_with_retry_after(client: httpx2.AsyncClient) -> None:
    """After 5 wrong passwords for alice, even the right one gets 429 SIGN_IN_THROTTLED and a Retry-After."""
    await fail(client, ALICE, 5)
    response = await sign_in(client, ALICE, PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert (body["code"], body["errors"]) == ("SIGN_IN_THROTTLED", [])
    assert "username" in body["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_the_username_limit_holds_from_every_address(
    client: httpx2.AsyncClient, elsewhere: httpx2.AsyncClient
) -> None:
    """Guesses for one username spread over two addresses are counted together."""
    await fail(client, ALICE, 3)
    await fail(elsewhere, ALICE, 2)
    assert (await sign_in(elsewhere, ALICE)).status_code == 429


async def test_the_address_limit_covers_every_username(
    client: httpx2.AsyncClient, elsewhere: httpx2.AsyncClient
) -> None:
    """20 failures from one address over 20 usernames: its 21st attempt is refused, another address is not."""
    for n in range(20):
        await fail(client, f"guess{n}@example.com", 1)
    response = await sign_in(client, BRUNO, PASSWORD)
    assert (response.status_code, response.json()["code"]) == (429, "SIGN_IN_THROTTLED")
    assert "address" in response.json()["message"]
    assert (await sign_in(elsewhere, BRUNO, PASSWORD)).status_code == 200


async def test_a_success_does_not_reset_the_address_counter(client: httpx2.AsyncClient) -> None:
    """19 failures, bruno signs in, one more failure (the 20th) then the next attempt is refused."""
    for n in range(19):
        await fail(client, f"guess{n}@example.com", 1)
    assert (await sign_in(client, BRUNO, PASSWORD)).status_code == 200
    await fail(client, "guess19@example.com", 1)
    assert (await sign_in(client, "guess20@example.com")).status_code == 429


async def test_the_window_slides_and_the_agent_may_sign_in_again(
    client: httpx2.AsyncClient, clock: FrozenClock
) -> None:
    """Once the failures are older than 60 s, the right password works again."""
    await fail(client, ALICE, 5)
    assert (await sign_in(client, ALICE, PASSWORD)).status_code == 429
    clock.advance(seconds=61)
    assert (await sign_in(client, ALICE, PASSWORD)).status_code == 200


async def test_concurrent_guesses_get_at_most_the_limit_through(client: httpx2.AsyncClient) -> None:
    """30 guesses at once for alice: no more than 5 are checked (401), the rest are refused (429)."""
    responses = await asyncio.gather(*(sign_in(client, ALICE) for _ in range(30)))
    statuses = [response.status_code for response in responses]
    assert statuses.count(401) <= 5
    assert statuses.count(429) == 30 - statuses.count(401)


async def test_the_limit_holds_across_processes(client: httpx2.AsyncClient, second_app: httpx2.AsyncClient) -> None:
    """Failures counted by one process refuse the next guess in another (the counts live in the database)."""
    await fail(client, ALICE, 3)
    await fail(second_app, ALICE, 2)
    assert (await sign_in(client, ALICE)).status_code == 429


async def test_failures_and_throttled_attempts_are_audited_without_the_password(client: httpx2.AsyncClient) -> None:
    """Each failure logs username and address; the refused attempt logs the limit; no line holds the password."""
    with capture_logs() as logs:
        await fail(client, ALICE, 5)
        assert (await sign_in(client, ALICE)).status_code == 429
    failed = [line for line in logs if line["event"] == "console sign-in failed"]
    throttled = [line for line in logs if line["event"] == "console sign-in throttled"]
    assert len(failed) == 5
    assert {(line["username"], line["address"]) for line in failed} == {(ALICE, "127.0.0.1")}
    assert [(line["username"], line["limit"], line["log_level"]) for line in throttled] == [
        (ALICE, "username", "warning")
    ]
    assert WRONG not in repr(logs)


async def test_ipv6_addresses_of_one_64_share_the_address_limit(app: FastAPI) -> None:
    """20 failures from 20 addresses of one IPv6 /64 (one host's usual allocation): the 21st is refused."""
    for n in range(21):
        transport = httpx2.ASGITransport(app=app, client=(f"2001:db8:1:2::{n + 1:x}", 50000))
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            response = await sign_in(http, f"guess{n}@example.com")
        assert response.status_code == (429 if n == 20 else 401), (n, response.text)
