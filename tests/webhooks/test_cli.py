"""``callbridge webhooks list|test|replay|listen``."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner

from callbridge.cli import webhooks
from callbridge.config import get_settings
from callbridge.webhooks.envelope import Outgoing, request_of, secret_of
from tests.cli.conftest import typer_app
from tests.webhooks.conftest import SECRET, SECRET_ENV, Receiver, Subscribe, make_call, subscription

Auth = Callable[..., dict[str, str]]
runner = CliRunner()
CALLBRIDGE = [sys.executable, "-c", "from callbridge.cli import main; main()"]


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    monkeypatch.setenv("CALLBRIDGE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(typer_app(webhooks), ["webhooks", *args])
    return result.exit_code, result.output


async def test_list_shows_status_and_counts(
    cli_database: None, client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe
) -> None:
    """list --json gives each subscription's status, delivered count, lag and oldest undelivered age."""
    await subscribe(receiver.url)
    await make_call(client, auth(), "list-1")
    await receiver.wait_for(1)
    await asyncio.sleep(0.3)
    code, output = await asyncio.to_thread(run, "list", "--json")
    assert code == 0, output
    (status,) = json.loads(output)
    assert (status["url"], status["status"], status["lag"]) == (receiver.url, "active", 0)
    assert status["delivered"] >= 1 and status["oldestUndeliveredAgeSeconds"] == 0


async def test_test_sends_a_signed_event_and_prints_the_answer(
    cli_database: None, receiver: Receiver, subscribe: Subscribe
) -> None:
    """test <id> POSTs a webhook.test event the library verifies, and prints the receiver's status."""
    subscription_id = await subscribe(receiver.url)
    code, output = await asyncio.to_thread(run, "test", str(subscription_id))
    assert code == 0, output
    assert f"POST {receiver.url}: 200" in output
    (attempt,) = receiver.attempts
    from standardwebhooks.webhooks import Webhook

    assert Webhook(SECRET).verify(attempt.body, attempt.headers)["type"] == "webhook.test"


async def test_replay_moves_the_cursor_back(
    cli_database: None,
    client: httpx2.AsyncClient,
    auth: Auth,
    receiver: Receiver,
    subscribe: Subscribe,
    database_url: str,
) -> None:
    """replay --from <id> delivers that event and the following ones again, with their webhook-ids."""
    subscription_id = await subscribe(receiver.url, events=["voice_call.state_changed"])
    await make_call(client, auth(), "replay-1", updates=2)
    first = list(await receiver.wait_for(3))
    await asyncio.sleep(0.3)  # settled
    code, output = await asyncio.to_thread(run, "replay", str(subscription_id), "--from", str(first[0].event_id))
    assert code == 0, output
    again = (await receiver.wait_for(6))[3:6]
    assert [r.headers["webhook-id"] for r in again] == [r.headers["webhook-id"] for r in first[:3]]
    assert (await subscription(database_url, subscription_id)).status == "active"


async def test_replay_refuses_a_bad_point(cli_database: None, receiver: Receiver, subscribe: Subscribe) -> None:
    """--from that is neither an id nor an ISO time is refused, naming the option."""
    subscription_id = await subscribe(receiver.url)
    code, output = await asyncio.to_thread(run, "replay", str(subscription_id), "--from", "yesterday")
    text = re.sub(r"[\s│╭╮╰╯─]+", " ", output)
    assert code == 2 and "--from" in text and "neither an event id nor an ISO 8601 time" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_listen_verifies_and_prints_each_event(tmp_path: Path) -> None:
    """listen --secret answers 204 to a signed event and prints it; a bad signature gets 401."""
    port = _free_port()
    log = (tmp_path / "listen.log").open("w")
    process = subprocess.Popen(
        [*CALLBRIDGE, "webhooks", "listen", "--port", str(port), "--secret", SECRET],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        now = datetime.now(UTC)
        outgoing = Outgoing(7, "cb_1_7", "7", "voice_call.state_changed", "0XX", "0LQ1", now, {"id": 7})
        import os

        os.environ.setdefault(SECRET_ENV, SECRET)
        headers, body = request_of(outgoing, secret_of(SECRET_ENV), now)
        good = httpx2.post(f"http://127.0.0.1:{port}/hooks", content=body, headers=headers)
        bad = httpx2.post(
            f"http://127.0.0.1:{port}/hooks", content=body, headers={**headers, "webhook-signature": "v1,AAAA"}
        )
        assert (good.status_code, bad.status_code) == (204, 401)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
    output = (tmp_path / "listen.log").read_text()
    assert "cb_1_7 voice_call.state_changed subject=0LQ1 (verified)" in output
    assert "REFUSED cb_1_7" in output


async def test_replay_from_a_time_starts_at_the_first_event_since(
    cli_database: None,
    client: httpx2.AsyncClient,
    auth: Auth,
    receiver: Receiver,
    subscribe: Subscribe,
) -> None:
    """replay --from <ISO time> delivers again the events that occurred at or after it, none before."""
    subscription_id = await subscribe(receiver.url, events=["voice_call.state_changed"])
    await make_call(client, auth(), "replay-time-1")
    await receiver.wait_for(1)
    await asyncio.sleep(0.3)
    moment = datetime.now(UTC).isoformat()
    await make_call(client, auth(), "replay-time-2")
    first = list(await receiver.wait_for(2))
    await asyncio.sleep(0.3)
    code, output = await asyncio.to_thread(run, "replay", str(subscription_id), "--from", moment)
    assert code == 0, output
    again = (await receiver.wait_for(3))[2:]
    assert [r.headers["webhook-id"] for r in again] == [first[1].headers["webhook-id"]]
