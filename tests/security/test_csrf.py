"""Cross-site request forgery and WebSocket hijacking: state-changing console requests and console WebSockets
from another origin are refused (403 CSRF_ORIGIN_MISMATCH); a request with the session cookie and neither
Origin nor Referer must carry X-Requested-With (403 CSRF_HEADER_MISSING); the console's own clients pass."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi import FastAPI

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.kit.clock import FrozenClock
from tests.console.live_server import LiveServer, console_stream, serve
from tests.routing.conftest import ALICE, Console, app, clock, console, contact_center

__all__ = ["app", "clock", "console", "contact_center"]

OWN = "http://callbridge.test"
EVIL = "https://evil.example"


async def cookie_of(console: Console, username: str = ALICE) -> dict[str, str]:
    """Sign in; the session as the browser holds it (the cookie only: the client's jar is emptied)."""
    token = (await console.sign_in(username))["Authorization"].removeprefix("Bearer ")
    console.http.cookies.clear()
    return {"Cookie": f"callbridge_session={token}"}


async def test_a_body_less_post_from_another_origin_is_refused(client: httpx2.AsyncClient, console: Console) -> None:
    """POST .../offers/{id}/decline with the cookie and Origin: https://evil.example gets 403 CSRF_ORIGIN_MISMATCH."""
    cookie = await cookie_of(console)
    response = await client.post("/console/v1/offers/0BZXX0000000001AAA/decline", headers={**cookie, "Origin": EVIL})
    assert response.status_code == 403
    assert (response.json()["code"], response.json()["errors"]) == ("CSRF_ORIGIN_MISMATCH", [])


async def test_a_cross_site_sign_out_is_refused_and_the_session_stands(
    client: httpx2.AsyncClient, console: Console
) -> None:
    """DELETE /console/v1/session from another origin: 403, and the session still works."""
    cookie = await cookie_of(console)
    response = await client.delete("/console/v1/session", headers={**cookie, "Origin": EVIL})
    assert (response.status_code, response.json()["code"]) == (403, "CSRF_ORIGIN_MISMATCH")
    assert (await client.get("/console/v1/me", headers=cookie)).status_code == 200


async def test_a_foreign_referer_without_origin_is_refused(client: httpx2.AsyncClient, console: Console) -> None:
    """Without Origin, the Referer's origin is judged."""
    cookie = await cookie_of(console)
    headers = {**cookie, "Referer": f"{EVIL}/page.html"}
    response = await client.put("/console/v1/presence", json={"status": "Available"}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (403, "CSRF_ORIGIN_MISMATCH")


async def test_an_opaque_origin_is_refused(client: httpx2.AsyncClient, console: Console) -> None:
    """Origin: null (a sandboxed frame, a file: page) is nobody's origin."""
    cookie = await cookie_of(console)
    headers = {**cookie, "Origin": "null"}
    response = await client.put("/console/v1/presence", json={"status": "Available"}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (403, "CSRF_ORIGIN_MISMATCH")


async def test_the_servers_own_origin_passes(client: httpx2.AsyncClient, console: Console) -> None:
    """Origin matching the Host header (the console page's own fetch) is served."""
    cookie = await cookie_of(console)
    headers = {**cookie, "Origin": OWN}
    response = await client.put("/console/v1/presence", json={"status": "Available"}, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_cookie_without_origin_needs_x_requested_with(client: httpx2.AsyncClient, console: Console) -> None:
    """The cookie, no Origin or Referer: 403 CSRF_HEADER_MISSING; with X-Requested-With (as the console's scripts
    send it), served."""
    cookie = await cookie_of(console)
    refused = await client.put("/console/v1/presence", json={"status": "Busy"}, headers=cookie)
    assert (refused.status_code, refused.json()["code"]) == (403, "CSRF_HEADER_MISSING")
    headers = {**cookie, "X-Requested-With": "callbridge-console"}
    served = await client.put("/console/v1/presence", json={"status": "Busy"}, headers=headers)
    assert served.status_code == 200, served.text


async def test_a_bearer_token_without_origin_passes(client: httpx2.AsyncClient, console: Console) -> None:
    """Scripts and the Python client send the token as Bearer and no Origin: served."""
    bearer = await console.sign_in(ALICE)
    response = await client.put("/console/v1/presence", json={"status": "Busy"}, headers=bearer)
    assert response.status_code == 200, response.text


async def test_signing_in_from_another_origin_is_refused(client: httpx2.AsyncClient) -> None:
    """A foreign page cannot sign its visitor in to an account of its choosing (login CSRF)."""
    body = {"username": ALICE, "password": "whatever"}
    response = await client.post("/console/v1/session", json=body, headers={"Origin": EVIL})
    assert (response.status_code, response.json()["code"]) == (403, "CSRF_ORIGIN_MISMATCH")


@pytest.fixture
async def behind_proxy(settings: Settings, contact_center: None, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    """The app with CALLBRIDGE_CONSOLE_ALLOWED_ORIGINS naming the proxy's public origin."""
    allowed = "https://console.example.com, https://other.example.com:8443"
    application = create_app(settings.model_copy(update={"console_allowed_origins": allowed}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_an_allowed_origin_passes_behind_a_proxy(behind_proxy: FastAPI) -> None:
    """The proxy's public origin is served although the Host header names the internal address; others are not."""
    transport = httpx2.ASGITransport(app=behind_proxy)
    async with httpx2.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as http:
        proxy_console = Console(http)
        cookie = await cookie_of(proxy_console)
        body = {"status": "Available"}
        allowed = await http.put(
            "/console/v1/presence", json=body, headers={**cookie, "Origin": "https://console.example.com"}
        )
        assert allowed.status_code == 200, allowed.text
        other = await http.put(
            "/console/v1/presence", json=body, headers={**cookie, "Origin": "https://console.example.org"}
        )
        assert other.status_code == 403


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveServer]:
    async with serve(app) as server:
        yield server


async def test_a_websocket_from_another_origin_is_refused_even_with_a_bearer_token(
    live: LiveServer, console: Console
) -> None:
    """Cross-site WebSocket hijacking: Origin https://evil.example gets stream.error CSRF_ORIGIN_MISMATCH."""
    bearer = await console.sign_in(ALICE)
    async with console_stream(live, {**bearer, "Origin": EVIL}) as stream:
        error = await stream.next()
        assert (error["type"], error["code"]) == ("stream.error", "CSRF_ORIGIN_MISMATCH")


async def test_a_websocket_from_the_servers_own_page_is_accepted(live: LiveServer, console: Console) -> None:
    """The console page's own socket (Origin = the Host) gets stream.hello."""
    bearer = await console.sign_in(ALICE)
    async with console_stream(live, {**bearer, "Origin": live.http_url}) as stream:
        assert (await stream.next())["type"] == "stream.hello"
