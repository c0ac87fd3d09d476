"""The test's app served over real HTTP and WebSockets by uvicorn, in the test's own event loop (the app's
lifespan is already running under the ``app`` fixture), and a small WebSocket reader."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
import websockets
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection


@dataclass
class LiveServer:
    http_url: str
    ws_url: str


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[LiveServer]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        ws="websockets-sansio",
        log_config=None,
        log_level=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class Reader:
    """Messages of one console WebSocket, read with a timeout so that a missing event fails the test."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[dict[str, Any]] = []

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), wait))
        self.seen.append(message)
        return message

    async def until(self, type_: str, wait: float = 5.0, **fields: Any) -> dict[str, Any]:
        """The next message of this type (and these field values), skipping others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            message = await self.next(max(0.01, deadline - loop.time()))
            if message["type"] == type_ and all(message.get(k) == v for k, v in fields.items()):
                return message

    async def quiet(self, wait: float = 0.3) -> list[dict[str, Any]]:
        """Whatever arrives within ``wait`` of each other (nothing, when the stream has nothing for this audience)."""
        got = []
        with contextlib.suppress(TimeoutError):
            while True:
                got.append(await self.next(wait))
        return got


@contextlib.asynccontextmanager
async def console_stream(
    server: LiveServer, headers: dict[str, str] | None = None, query: str = ""
) -> AsyncIterator[Reader]:
    url = f"{server.ws_url}/console/v1/stream{query}"
    async with websockets.connect(url, additional_headers=headers or {}) as connection:
        yield Reader(connection)
