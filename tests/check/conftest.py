"""A real Callbridge process to check, and a deliberately broken server to check against."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from callbridge.auth.certificates import KeyPair
from tests.client.live import LiveServer, free_port, live_server


@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory, key_pair: KeyPair, other_key_pair: KeyPair
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-check"), key_pair, other_key_pair) as running:
        yield running


@pytest.fixture
def serve_app() -> Iterator[Callable[[FastAPI], str]]:
    """Serve an ASGI app with uvicorn on a loopback port in a thread; its URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(app: FastAPI) -> str:
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def other_key(tmp_path: Path, other_key_pair: KeyPair) -> Path:
    """A private key the checked call center does not trust."""
    path = tmp_path / "other.key"
    path.write_text(other_key_pair.private_key_pem)
    return path
