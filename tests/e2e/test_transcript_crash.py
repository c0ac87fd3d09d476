"""End to end: an answered transcript is a stored transcript, even when the server is killed mid-stream."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest

from tests.e2e.test_serve_process import CLI, free_port, run, wait_until_listening

ORG_ID = "00D000000000001AAA"  # the org and call center `callbridge demo` applies
CALL_CENTER = "DemoCC"
KEY = "crash-test-contact"
SENDERS = 16


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CALLBRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'callbridge.db'}"}


@pytest.fixture
def token(env: dict[str, str], tmp_path: Path) -> str:
    """`migrate` and `demo` as `make run` does them; a token signed with the demo key, as the Lambdas sign."""
    run(["migrate"], env)
    run(["demo", "--dir", str(tmp_path / "demo"), "--base-url", "http://127.0.0.1"], env)
    now = int(time.time())
    claims = {"iss": ORG_ID, "sub": CALL_CENTER, "iat": now, "exp": now + 3600}
    return jwt.encode(claims, (tmp_path / "demo" / "private.key").read_text(), algorithm="RS256")


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.port = free_port()
        self.process = subprocess.Popen(
            [CLI, "serve", "--port", str(self.port)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until_listening(self.port, self.process)
        return f"http://127.0.0.1:{self.port}/telephony/v1"

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[Server]:
    process = Server(env)
    try:
        yield process
    finally:
        process.stop()


def message(index: int) -> dict[str, Any]:
    start = int(time.time() * 1000)
    return {
        "messageId": f"m{index:05d}",
        "startTime": start,
        "endTime": start + 900,
        "content": f"utterance number {index}",
        "participantId": "END_USER",
        "senderType": "END_USER",
    }


async def stream_until_killed(base: str, headers: dict[str, str], server: Server) -> tuple[set[int], int]:
    """Concurrent senders post messages; after 300 answers the server is SIGKILLed. Returns the indexes that
    got a 2xx, and how many were sent in all."""
    acknowledged: set[int] = set()
    counter = iter(range(1_000_000))
    sent = 0
    killed = asyncio.Event()

    async def sender(http: httpx2.AsyncClient) -> None:
        nonlocal sent
        while True:
            index = next(counter)
            sent = max(sent, index + 1)
            try:
                response = await http.post(f"{base}/voiceCalls/{KEY}/messages", json=message(index), headers=headers)
            except httpx2.TransportError:
                if killed.is_set():
                    return
                raise
            assert response.status_code == 200, response.text
            acknowledged.add(index)
            if len(acknowledged) >= 300 and not killed.is_set():
                killed.set()
                server.kill()

    async with httpx2.AsyncClient(timeout=10) as http:
        await asyncio.gather(*(sender(http) for _ in range(SENDERS)))
    return acknowledged, sent


async def stored_ids(base: str, headers: dict[str, str]) -> list[str]:
    ids: list[str] = []
    params: dict[str, Any] = {"limit": 1000}
    async with httpx2.AsyncClient(timeout=10) as http:
        while True:
            response = await http.get(f"{base}/voiceCalls/{KEY}/messages", params=params, headers=headers)
            assert response.status_code == 200, response.text
            page = response.json()
            ids += [entry["messageId"] for entry in page["entries"]]
            if page["next"] is None:
                return ids
            params["after"] = page["next"]


async def test_every_answered_message_survives_sigkill_exactly_once(server: Server, token: str) -> None:
    """Messages streamed by concurrent clients while the server is SIGKILLed: after a restart on the same
    database, every message that got a 2xx is stored, each exactly once; resending everything then stores
    each remaining message once more, never twice."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = server.start()
    create = {
        "callCenterApiName": CALL_CENTER,
        "vendorCallKey": KEY,
        "to": "+18005550199",
        "from": "+14155550123",
        "initiationMethod": "Inbound",
        "startTime": "2020-01-01T00:00:00Z",
        "participants": [{"participantKey": "+14155550123", "type": "END_USER"}],
    }
    async with httpx2.AsyncClient(timeout=10) as http:
        assert (await http.post(f"{base}/voiceCalls", json=create, headers=headers)).status_code == 200

    acknowledged, sent = await stream_until_killed(base, headers, server)
    assert len(acknowledged) >= 300
    assert sent > len(acknowledged), "the kill should catch requests in flight"

    base = server.start()
    ids = await stored_ids(base, headers)
    assert len(ids) == len(set(ids)), "an entry is stored twice"
    assert {f"m{i:05d}" for i in acknowledged} <= set(ids), "an answered message was lost"

    async with httpx2.AsyncClient(timeout=10) as http:

        async def resend(index: int) -> int:
            url = f"{base}/voiceCalls/{KEY}/messages"
            return (await http.post(url, json=message(index), headers=headers)).status_code

        for first in range(0, sent, SENDERS):
            statuses = await asyncio.gather(*(resend(i) for i in range(first, min(sent, first + SENDERS))))
            assert set(statuses) == {200}
    ids = await stored_ids(base, headers)
    assert sorted(ids) == [f"m{i:05d}" for i in range(sent)]
