"""WebSocket message size on the console's push channel, against a real `callbridge serve`: a message over
CALLBRIDGE_WS_MAX_MESSAGE_BYTES closes the socket with 1009, whole or in fragments; smaller ones are ignored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from callbridge.auth.certificates import KeyPair
from tests.routing.conftest import ALICE, PASSWORD
from tests.security.served import WS_MAX_MESSAGE, Served, served

pytestmark = pytest.mark.timeout(60)

MESSAGE_TOO_BIG = 1009


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("websocket-limits"), key_pair) as server:
        yield server


@pytest.fixture
async def stream(server: Served) -> AsyncIterator[ClientConnection]:
    """Alice's console stream, signed in."""
    async with httpx2.AsyncClient(base_url=server.url) as http:
        response = await http.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()["token"]
    url = f"ws://127.0.0.1:{server.port}/console/v1/stream"
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as connection:
        yield connection


async def close_code(connection: ClientConnection, wait: float = 5.0) -> int | None:
    """The code the server closed with, reading (and dropping) what it sends before; None if still open."""
    try:
        async with asyncio.timeout(wait):
            while True:
                await connection.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return None


async def test_message_over_the_limit_closes_with_1009(stream: ClientConnection) -> None:
    """A text message one byte over the limit (64 KiB here) closes the socket with 1009 (message too big)."""
    await stream.send("a" * (WS_MAX_MESSAGE + 1))
    assert await close_code(stream) == MESSAGE_TOO_BIG


async def test_fragmented_message_over_the_limit_closes_with_1009(stream: ClientConnection) -> None:
    """Fragments that are each small but add up to more than the limit close the socket with 1009."""
    await stream.send(["a" * 16 * 1024 for _ in range(WS_MAX_MESSAGE // (16 * 1024) + 1)])
    assert await close_code(stream) == MESSAGE_TOO_BIG


async def test_binary_message_over_the_limit_closes_with_1009(stream: ClientConnection) -> None:
    """A binary message over the limit closes the socket with 1009 as well."""
    await stream.send(b"\x00" * (WS_MAX_MESSAGE * 4))
    assert await close_code(stream) == MESSAGE_TOO_BIG


async def test_message_within_the_limit_keeps_the_stream(stream: ClientConnection) -> None:
    """A message within the limit is read and dropped: the stream stays open and answers a ping."""
    await stream.send("a" * (WS_MAX_MESSAGE // 2))
    assert await close_code(stream, wait=0.5) is None
    pong = await stream.ping()
    await asyncio.wait_for(pong, 5)
