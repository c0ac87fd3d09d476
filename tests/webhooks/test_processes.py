"""Several processes share the work; a killed server loses nothing (at-least-once, repeats named by webhook-id)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
from fastapi import FastAPI

from callbridge.app import create_app
from callbridge.config import Settings
from callbridge.webhooks.types import CATALOGUE_TYPES
from tests.e2e.test_serve_process import CLI, free_port
from tests.webhooks.conftest import (
    SECRET,
    SECRET_ENV,
    Received,
    Receiver,
    Subscribe,
    by_call,
    event_ids,
    event_ids_by_call,
    make_call,
)

Auth = Callable[..., dict[str, str]]
TYPES = sorted(CATALOGUE_TYPES)


async def test_two_app_instances_deliver_each_event_once(
    settings: Settings,
    app: FastAPI,
    client: httpx2.AsyncClient,
    auth: Auth,
    receiver: Receiver,
    other_receiver: Receiver,
    subscribe: Subscribe,
    database_url: str,
) -> None:
    """Two apps (two Databases, as two processes) on one database: every event once per subscription, each call's
    in order."""
    await subscribe(receiver.url, events=TYPES)
    await subscribe(other_receiver.url, events=TYPES)
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        after = (await event_ids(database_url))[-1:] or [0]
        await asyncio.gather(*(make_call(client, auth(), f"shared-{n}", updates=2) for n in range(6)))
        expected = await event_ids_by_call(database_url, after[0])
        for target in (receiver, other_receiver):
            await target.wait_for(sum(map(len, expected.values())))
            await asyncio.sleep(0.3)
            assert by_call(target.delivered) == expected


async def test_the_other_instance_takes_over_when_one_stops(
    settings: Settings,
    client: httpx2.AsyncClient,
    auth: Auth,
    receiver: Receiver,
    subscribe: Subscribe,
    database_url: str,
) -> None:
    """An instance that stops gives its lease back: the one left delivers what follows, nothing lost."""
    await subscribe(receiver.url, events=TYPES)
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        await make_call(client, auth(), "takeover-1")
        await receiver.wait_for(1)
    after = (await event_ids(database_url))[-1]
    await make_call(client, auth(), "takeover-2", updates=1)
    expected = await event_ids(database_url, after)
    delivered = await receiver.wait_for(1 + len(expected))
    assert [received.event_id for received in delivered][-len(expected) :] == expected


@contextmanager
def served(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        process = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(15)


async def test_a_server_killed_mid_delivery_loses_nothing(
    database_url: str, auth: Auth, receiver: Receiver, subscribe: Subscribe, tmp_path: Path
) -> None:
    """SIGKILL during a backlog's delivery, then a restart: every event arrives, each call's first arrivals in
    order."""
    await subscribe(receiver.url, events=TYPES)
    env = {
        **os.environ,
        "CALLBRIDGE_DATABASE_URL": database_url,
        "CALLBRIDGE_WEBHOOK_POLL_SECONDS": "0.05",
        "CALLBRIDGE_WEBHOOK_LEASE_SECONDS": "1",
        "CALLBRIDGE_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
        "CALLBRIDGE_WEBHOOK_MAX_IN_FLIGHT": "2",  # slow enough to be killed mid-backlog
        "CALLBRIDGE_LOG_LEVEL": "warning",
        SECRET_ENV: SECRET,
    }
    receiver.delay = 0.1
    port = free_port()
    after = (await event_ids(database_url))[-1:] or [0]
    with served(env, port, tmp_path / "server.log") as process:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for n in range(15):
                await make_call(http, auth(), f"killed-{n}", updates=1)
        await receiver.wait_for(5)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    expected = await event_ids(database_url, after[0])
    assert len(receiver.delivered) < len(expected)  # killed mid-delivery
    with served(env, port, tmp_path / "server.log"):
        deadline = time.monotonic() + 30
        while not set(expected) <= {received.event_id for received in receiver.delivered}:
            assert time.monotonic() < deadline, "events lost"
            await asyncio.sleep(0.1)
    first_arrivals: dict[str, Received] = {}
    for received in receiver.delivered:
        first_arrivals.setdefault(received.headers["webhook-id"], received)
    assert by_call(list(first_arrivals.values())) == await event_ids_by_call(database_url, after[0])
