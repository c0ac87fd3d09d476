"""Signing in to the console: passwords, session tokens (Bearer or cookie), expiry, sign-out."""

from __future__ import annotations

import httpx2

from callbridge.kit.clock import FrozenClock
from tests.routing.conftest import ALICE, ALICE_ID, PASSWORD, SAM, Console


async def test_sign_in_returns_a_token_and_the_agent(client: httpx2.AsyncClient) -> None:
    """The right password: a token, its expiry, and who the agent is (Offline until they say otherwise)."""
    response = await client.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert len(body["token"]) >= 40
    assert body["agent"] == {
        "userId": ALICE_ID,
        "username": ALICE,
        "orgId": "00DXX000000CONFAAA",
        "role": "agent",
        "presence": "Offline",
        "capacity": 100,
        "capacityUsed": 0,
    }


async def test_a_wrong_password_is_refused(client: httpx2.AsyncClient) -> None:
    """401 INVALID_CREDENTIALS."""
    response = await client.post("/console/v1/session", json={"username": ALICE, "password": "wrong"})
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_CREDENTIALS")


async def test_an_unknown_username_is_refused_the_same_way(client: httpx2.AsyncClient) -> None:
    """The answer does not tell whether the username exists."""
    response = await client.post("/console/v1/session", json={"username": "nobody@example.com", "password": PASSWORD})
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_CREDENTIALS")


async def test_a_request_without_a_session_is_refused(client: httpx2.AsyncClient) -> None:
    """401 SESSION_MISSING."""
    response = await client.get("/console/v1/offers")
    assert (response.status_code, response.json()["code"]) == (401, "SESSION_MISSING")


async def test_an_unknown_token_is_refused(client: httpx2.AsyncClient) -> None:
    """401 SESSION_INVALID."""
    response = await client.get("/console/v1/offers", headers={"Authorization": "Bearer not-a-session"})
    assert (response.status_code, response.json()["code"]) == (401, "SESSION_INVALID")


async def test_an_expired_session_is_refused(console: Console, clock: FrozenClock) -> None:
    """After eight hours the session has expired: 401 SESSION_EXPIRED."""
    headers = await console.sign_in(ALICE)
    clock.advance(hours=8)
    response = await console.http.get("/console/v1/offers", headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, "SESSION_EXPIRED")


async def test_the_cookie_works_like_the_bearer_token(client: httpx2.AsyncClient) -> None:
    """Sign-in sets the HttpOnly cookie callbridge_session; requests that carry it are signed in."""
    response = await client.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert "callbridge_session=" in cookie and "HttpOnly" in cookie
    assert client.cookies["callbridge_session"] == response.json()["token"]
    me = await client.get("/console/v1/me")  # the client's cookie jar sends it; no Authorization header
    assert me.json()["username"] == ALICE


async def test_sign_out_ends_the_session(console: Console) -> None:
    """DELETE /console/v1/session: the token no longer works."""
    headers = await console.sign_in(ALICE)
    assert (await console.http.delete("/console/v1/session", headers=headers)).status_code == 204
    response = await console.http.get("/console/v1/me", headers=headers)
    assert response.json()["code"] == "SESSION_INVALID"


async def test_the_database_keeps_only_a_hash_of_the_token(console: Console, database_url: str) -> None:
    """No stored column holds the token itself."""
    from sqlalchemy import select

    from callbridge.kit.db import Database
    from callbridge.models import AgentSession

    token = (await console.sign_in(ALICE))["Authorization"].removeprefix("Bearer ")
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            (row,) = (await session.scalars(select(AgentSession))).all()
    finally:
        await database.dispose()
    assert token not in (row.token_sha256, row.user_id)


async def test_a_supervisor_signs_in_with_the_supervisor_role(console: Console) -> None:
    """role: supervisor in the config file."""
    headers = await console.sign_in(SAM)
    assert (await console.http.get("/console/v1/me", headers=headers)).json()["role"] == "supervisor"


async def test_presence_must_be_a_known_status(console: Console) -> None:
    """400 naming the field for anything but Available, Busy or Offline."""
    headers = await console.sign_in(ALICE)
    response = await console.http.put("/console/v1/presence", json={"status": "Away"}, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("body.status:")
