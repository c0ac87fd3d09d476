"""Sessions that really end: a console stream stops (stream.error, then close 4401) when its session is signed
out, expires, or its agent's password changes, in this process or any other; the SSE stream of a call too."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import delete

from callbridge.app import create_app
from callbridge.auth.certificates import KeyPair
from callbridge.config import Settings
from callbridge.console.passwords import hash_password
from callbridge.kit.clock import FrozenClock
from callbridge.kit.db import Database
from callbridge.models import AgentSession
from tests.console.live_server import LiveServer, Reader, console_stream, serve
from tests.console.test_stream import Auth, routed_call, say
from tests.e2e.test_serve_process import CLI
from tests.routing.conftest import (
    ALICE,
    CONFIG,
    PASSWORD,
    PASSWORD_HASH,
    Console,
    Telephony,
    app,
    apply_config,
    auth,
    clock,
    console,
    contact_center,
    state,
    telephony,
)
from tests.voice_calls.conftest import CreateCall, create_call

__all__ = ["app", "auth", "clock", "console", "contact_center", "create_call", "state", "telephony"]

CLOSE_UNAUTHORIZED = 4401


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A short heartbeat: an idle stream re-checks its session at each one."""
    return Settings(database_url=database_url, console_stream_heartbeat_seconds=0.3)


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveServer]:
    async with serve(app) as server:
        yield server


async def ended_with(stream: Reader, code: str) -> None:
    """The stream's last message is stream.error ``code`` (no transcript before it), then close 4401."""
    message = await stream.until("stream.error", wait=5)
    assert message["code"] == code
    assert not [m for m in stream.seen if m["type"] == "transcript.accepted"]
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await stream.next(wait=5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (CLOSE_UNAUTHORIZED, code)


async def test_signing_out_ends_the_open_stream(
    live: LiveServer,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
) -> None:
    """After DELETE /console/v1/session the stream says SESSION_ENDED and closes: the next utterance is not sent."""
    alice = await console.available(ALICE)
    async with console_stream(live, alice) as stream:
        await stream.until("stream.hello")
        await routed_call(create_call, telephony)
        await stream.until("routing.offered")
        await console.take(alice)
        assert (await client.delete("/console/v1/session", headers=alice)).status_code == 204
        await say(client, auth, "u1", "My card number is 4111 1111 1111 1111.")
        await ended_with(stream, "SESSION_ENDED")


async def test_a_session_deleted_by_another_process_ends_the_stream_before_its_next_event(
    live: LiveServer,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
    database_url: str,
) -> None:
    """The session row gone from the database (another process signed out): the stream checks it before sending
    the next utterance, and ends instead."""
    alice = await console.available(ALICE)
    async with console_stream(live, alice) as stream:
        await stream.until("stream.hello")
        await routed_call(create_call, telephony)
        await stream.until("routing.offered")
        await console.take(alice)
        database = Database(database_url)
        try:
            async with database.write_session() as session:
                await session.execute(delete(AgentSession))
                await session.commit()
        finally:
            await database.dispose()
        await asyncio.sleep(1.1)  # past the stream's last check, so the event triggers one
        await say(client, auth, "u1", "My card number is 4111 1111 1111 1111.")
        await ended_with(stream, "SESSION_ENDED")


async def test_a_password_set_from_the_cli_ends_the_stream(
    live: LiveServer, console: Console, database_url: str
) -> None:
    """`callbridge agent set-password`, a separate process, ends the agent's idle stream within a heartbeat."""
    alice = await console.available(ALICE)
    async with console_stream(live, alice) as stream:
        await stream.until("stream.hello")
        env = {**os.environ, "CALLBRIDGE_DATABASE_URL": database_url}
        result = await asyncio.to_thread(
            subprocess.run,
            [CLI, "agent", "set-password", ALICE, "--password-stdin"],
            input="a brand new password\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        await ended_with(stream, "SESSION_ENDED")


async def test_a_password_changed_by_apply_ends_the_stream_and_the_session(
    live: LiveServer, console: Console, client: httpx2.AsyncClient, database_url: str, tmp_path: Path, key_pair: KeyPair
) -> None:
    """A new password_hash applied from the contact-centre file: SESSION_PASSWORD_CHANGED on the stream and on
    every request of the old session."""
    alice = await console.available(ALICE)
    async with console_stream(live, alice) as stream:
        await stream.until("stream.hello")
        changed = CONFIG.replace(PASSWORD_HASH, hash_password("another one", n=2**4), 1)
        await apply_config(database_url, tmp_path, key_pair, changed)
        await ended_with(stream, "SESSION_PASSWORD_CHANGED")
    response = await client.get("/console/v1/me", headers=alice)
    assert (response.status_code, response.json()["code"]) == (401, "SESSION_PASSWORD_CHANGED")


async def test_an_expired_session_ends_the_stream(live: LiveServer, console: Console, clock: FrozenClock) -> None:
    """Past the session's expiry, the idle stream's next heartbeat check ends it with SESSION_EXPIRED."""
    alice = await console.available(ALICE)
    async with console_stream(live, alice) as stream:
        await stream.until("stream.hello")
        clock.advance(hours=9)
        await ended_with(stream, "SESSION_EXPIRED")


async def test_signing_out_ends_a_calls_event_stream(
    live: LiveServer, console: Console, telephony: Telephony, create_call: CreateCall
) -> None:
    """The SSE stream of a call, followed with the session, ends with a SESSION_ENDED frame on sign-out."""
    supervisor = await console.sign_in("sam@example.com")
    call = await routed_call(create_call, telephony)
    async with (
        httpx2.AsyncClient(base_url=live.http_url, timeout=10) as http,
        http.stream("GET", f"/console/v1/calls/{call}/events", headers=supervisor) as response,
    ):
        assert response.status_code == 200
        lines = response.aiter_lines()
        assert await anext(lines) == "retry: 1000"
        assert (await http.delete("/console/v1/session", headers=supervisor)).status_code == 204
        frames = [line async for line in lines]
    assert "event: stream.error" in frames
    assert any("SESSION_ENDED" in line for line in frames if line.startswith("data:"))


async def test_the_session_cookie_is_httponly_and_strict_but_not_secure_by_default(console: Console) -> None:
    """Over plain http (make run) the cookie is HttpOnly, SameSite=Strict, Path=/console and not Secure."""
    response = await console.http.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("callbridge_session=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert "secure" not in cookie.replace("samesite", "")


@pytest.fixture
async def secure_app(settings: Settings, contact_center: None, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update={"cookie_secure": True}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_cookie_secure_sets_secure_on_the_session_cookie(secure_app: FastAPI) -> None:
    """CALLBRIDGE_COOKIE_SECURE=true: the cookie set at sign-in and the one clearing it at sign-out are Secure,
    still HttpOnly and SameSite=Strict."""
    transport = httpx2.ASGITransport(app=secure_app)
    async with httpx2.AsyncClient(transport=transport, base_url="https://callbridge.test") as http:
        signed = await http.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
        token = signed.json()["token"]
        signed_out = await http.delete("/console/v1/session", headers={"Authorization": f"Bearer {token}"})
    for response in (signed, signed_out):
        attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
        assert {"secure", "httponly", "samesite=strict", "path=/console"} <= set(attributes)
