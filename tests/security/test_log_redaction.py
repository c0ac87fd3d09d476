"""Credentials never reach the log: a real `callbridge serve` process with JSON logs (uvicorn's access and
WebSocket lines included) is sent a session token in every place a client may put it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import structlog
from websockets.sync.client import connect

from callbridge.auth.certificates import KeyPair
from callbridge.config import LogFormat, Settings
from callbridge.ops import logs
from callbridge.ops.logs import REDACTED, redact
from tests.e2e.test_serve_process import CLI, free_port, run, wait_until_listening
from tests.ops.conftest import restore_logging
from tests.routing.conftest import ALICE, PASSWORD, apply_config

__all__ = ["restore_logging"]


@pytest.fixture
def served(tmp_path: Path, key_pair: KeyPair) -> Iterator[tuple[str, Path]]:
    """A server with the routing tests' contact centre, logging JSON at info to a file; its URL and log path."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'callbridge.db'}"
    env = {**os.environ, "CALLBRIDGE_DATABASE_URL": database, "CALLBRIDGE_LOG_FORMAT": "json"}
    env.pop("CALLBRIDGE_LOG_LEVEL", None)
    run(["migrate"], env)
    asyncio.run(apply_config(database, tmp_path, key_pair))
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_listening(port, process)
            yield f"127.0.0.1:{port}", log_path
        finally:
            process.terminate()
            process.wait(timeout=20)


def sign_in(http: httpx2.Client) -> str:
    response = http.post("/console/v1/session", json={"username": ALICE, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def log_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_token_in_the_websocket_url_is_redacted(served: tuple[str, Path]) -> None:
    """uvicorn's line for ws://.../console/v1/stream?token=... names the stream, never the token."""
    address, log_path = served
    with httpx2.Client(base_url=f"http://{address}") as http:
        token = sign_in(http)
    with connect(f"ws://{address}/console/v1/stream?token={token}") as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "stream.hello"
    with httpx2.Client(base_url=f"http://{address}") as http:
        assert http.get("/healthz").status_code == 200  # the WebSocket's lines are written by now
    text = log_path.read_text()
    assert token not in text
    stream_lines = [line for line in log_lines(log_path) if "/console/v1/stream" in json.dumps(line)]
    assert stream_lines and all(REDACTED in json.dumps(line) for line in stream_lines)


def test_a_token_in_an_access_log_query_is_redacted(served: tuple[str, Path]) -> None:
    """The access line of GET /console/v1/me?token=... keeps the path and hides the value."""
    address, log_path = served
    with httpx2.Client(base_url=f"http://{address}") as http:
        token = sign_in(http)
        http.cookies.clear()
        assert http.get("/console/v1/me", params={"token": token}).status_code == 401
    access = [line for line in log_lines(log_path) if line.get("event") == "request" and "/me" in str(line["path"])]
    assert [line["path"] for line in access] == [f"/console/v1/me?token={REDACTED}"]
    assert token not in log_path.read_text()


def test_bearer_and_cookie_credentials_are_redacted() -> None:
    """A Bearer token, the session cookie and a password field are replaced wherever they appear in a line."""
    assert redact("Authorization: Bearer abc.def-ghi") == f"Authorization: Bearer {REDACTED}"
    assert redact("Cookie: x=1; callbridge_session=s3cr3t; y=2") == f"Cookie: x=1; callbridge_session={REDACTED}; y=2"
    assert redact("GET /x?a=1&password=hunter2") == f"GET /x?a=1&password={REDACTED}"


@pytest.mark.parametrize("log_format", [LogFormat.json, LogFormat.console])
def test_credential_fields_are_redacted_in_both_formats(
    restore_logging: None, settings: Settings, log_format: LogFormat
) -> None:
    """A line logging request headers (Authorization, Cookie) or a password field shows none of their values."""
    stream = io.StringIO()
    logs.configure(settings.model_copy(update={"log_format": log_format}), stream=stream, cache_loggers=False)
    headers = {"Authorization": "Bearer eyJ.secret.sig", "Cookie": "callbridge_session=tok3n", "Accept": "*/*"}
    structlog.get_logger().info("request headers", headers=headers, password="hunter2")
    logging.getLogger("uvicorn.error").info("%s - cookie %s", "127.0.0.1", "callbridge_session=tok3n")
    text = stream.getvalue()
    assert "eyJ.secret.sig" not in text and "tok3n" not in text and "hunter2" not in text
    assert REDACTED in text and "*/*" in text
