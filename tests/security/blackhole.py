"""A TCP proxy a test can turn into a black hole: a frozen database server, without touching the real one.

While forwarding, bytes pass both ways. While holding, connections stay open and new ones are accepted (as a
SIGSTOPped server's kernel does) but nothing passes in either direction, so every client waits; ``resume``
drops the held connections (as a restarted server would) and forwards again.
"""

from __future__ import annotations

import asyncio
import contextlib


class BlackHoleProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._forwarding = asyncio.Event()
        self._forwarding.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        self._drop_connections()
        self._forwarding.set()  # connections waiting to be forwarded see they were dropped, and end
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def hold(self) -> None:
        """Stop forwarding: every connection, open or new, hangs."""
        self._forwarding.clear()

    def resume(self) -> None:
        """Close the connections that hung, then forward again."""
        self._drop_connections()
        self._forwarding.set()

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        await self._forwarding.wait()
        if client_writer.transport.is_closing():
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.add(server_writer)
        for source, sink in ((client_reader, server_writer), (server_reader, client_writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(65536):
                # Held: what arrives is kept back, never forwarded (the connection is dropped on resume).
                if not self._forwarding.is_set():
                    await asyncio.Event().wait()
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()
