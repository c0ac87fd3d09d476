"""What operators see: GET /console/v1/webhooks (supervisors only), and the per-subscription gauges of /metrics."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

from callbridge.console.passwords import hash_password
from callbridge.contact_center.service import apply_file
from callbridge.kit.db import Database
from tests.conftest import ORG_ID
from tests.webhooks.conftest import Receiver, Subscribe, make_call

Auth = Callable[..., dict[str, str]]
PASSWORD = "a long enough console password"
AGENTS = f"""version: 1
orgs:
  - id: {ORG_ID}
    agents:
      - {{username: sam@example.com, user_id: 005XX0000000SAMAAA, role: supervisor, password_hash: "{{hash}}"}}
      - {{username: alice@example.com, user_id: 005XX000000ALICEAA, password_hash: "{{hash}}"}}
"""


async def sign_in(client: httpx2.AsyncClient, database_url: str, tmp_path: Path, username: str) -> dict[str, str]:
    path = tmp_path / "agents.yaml"
    if not path.exists():
        path.write_text(AGENTS.replace("{hash}", hash_password(PASSWORD, n=2**4)))
        database = Database(database_url)
        try:
            await apply_file(database, path)
        finally:
            await database.dispose()
    response = await client.post("/console/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_supervisor_reads_status_and_lag(
    client: httpx2.AsyncClient,
    auth: Auth,
    receiver: Receiver,
    subscribe: Subscribe,
    database_url: str,
    tmp_path: Path,
) -> None:
    """While the receiver is down the lag and oldest undelivered age grow; once it is back they return to 0."""
    headers = await sign_in(client, database_url, tmp_path, "sam@example.com")
    await subscribe(receiver.url)
    receiver.status = 503
    await make_call(client, auth(), "lag-1", updates=2)
    await asyncio.sleep(0.4)
    (behind,) = (await client.get("/console/v1/webhooks", headers=headers)).json()
    assert behind["lag"] >= 3 and behind["oldestUndeliveredAgeSeconds"] > 0
    assert behind["retrying"] == 1 and behind["failed"] >= 1 and behind["status"] == "active"
    receiver.status = 200
    deadline = time.monotonic() + 10
    while True:
        (status,) = (await client.get("/console/v1/webhooks", headers=headers)).json()
        if status["lag"] == 0:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert status["oldestUndeliveredAgeSeconds"] == 0 and status["retrying"] == 0 and status["delivered"] >= 3


async def test_an_agent_may_not_read_webhooks(
    client: httpx2.AsyncClient, receiver: Receiver, subscribe: Subscribe, database_url: str, tmp_path: Path
) -> None:
    """GET /console/v1/webhooks answers 403 NOT_SUPERVISOR to an agent."""
    headers = await sign_in(client, database_url, tmp_path, "alice@example.com")
    response = await client.get("/console/v1/webhooks", headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "NOT_SUPERVISOR"


async def test_metrics_show_each_subscription(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe
) -> None:
    """/metrics carries delivered, failed, retrying and oldest-undelivered-age gauges per subscription."""
    subscription_id = await subscribe(receiver.url)
    await make_call(client, auth(), "metrics-1")
    await receiver.wait_for(1)
    deadline = time.monotonic() + 10
    labels = f'{{subscription="{subscription_id}",url="{receiver.url}"}}'
    while True:
        text = (await client.get("/metrics")).text
        if f"callbridge_webhook_delivered{labels} 1.0" in text:
            break
        assert time.monotonic() < deadline, "no delivered gauge"
        await asyncio.sleep(0.2)
    for name in ("failed", "retrying", "dead_lettered", "oldest_undelivered_age_seconds", "lag_events"):
        assert f"callbridge_webhook_{name}{labels}" in text


async def test_a_closed_call_sends_its_whole_record(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe
) -> None:
    """A voice_call.record subscription gets the whole VoiceCall when it is closed."""
    await subscribe(receiver.url, events=["voice_call.record"])
    voice_call_id = await make_call(client, auth(), "record-1")
    response = await client.patch(
        f"/telephony/v1/voiceCalls/{voice_call_id}",
        json={"isActiveCall": False, "endTime": "2026-11-24T18:24:10Z"},
        headers=auth(),
    )
    assert response.status_code == 200, response.text
    (received,) = await receiver.wait_for(1)
    record = received.envelope["data"]["record"]
    assert received.envelope["type"] == "voice_call.record"
    assert (record["id"], record["vendorCallKey"], record["isActiveCall"]) == (voice_call_id, "record-1", False)
    assert record["callEndDateTime"].startswith("2026-11-24T18:24:10")
    assert received.headers["webhook-id"].endswith("_record")


async def test_the_call_record_is_the_call_as_it_was_when_it_ended(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe
) -> None:
    """A record delivered after a later update still shows the call as the closing change left it."""
    await subscribe(receiver.url, events=["voice_call.record"])
    receiver.status = 503
    voice_call_id = await make_call(client, auth(), "record-2")
    path = f"/telephony/v1/voiceCalls/{voice_call_id}"
    closing = {"isActiveCall": False, "callAttributes": json.dumps({"Step__c": "closing"})}
    assert (await client.patch(path, json=closing, headers=auth())).status_code == 200
    later = {"callAttributes": json.dumps({"Step__c": "after"})}
    assert (await client.patch(path, json=later, headers=auth())).status_code == 200
    receiver.status = 200
    (received,) = await receiver.wait_for(1)
    assert received.envelope["data"]["record"]["callAttributes"]["Step__c"] == "closing"
