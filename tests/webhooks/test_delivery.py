"""Delivery to a real HTTP receiver: envelopes, signatures, order, outages, retries, 410, dead letters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx2
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from callbridge.kit.db import Database
from callbridge.models import WebhookAttempt
from callbridge.webhooks.types import CATALOGUE_TYPES
from tests.webhooks.conftest import (
    SECRET,
    Receiver,
    Subscribe,
    by_call,
    event_ids,
    event_ids_by_call,
    make_call,
    subscription,
)

Auth = Callable[..., dict[str, str]]
EVERY_TIMELINE_TYPE = sorted(CATALOGUE_TYPES)  # not the call records, which share their closing event's id


async def test_event_arrives_as_a_signed_cloudevent(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe
) -> None:
    """A created call reaches the receiver as a CloudEvents 1.0 envelope whose signature the library verifies."""
    subscription_id = await subscribe(receiver.url)
    voice_call_id = await make_call(client, auth(), "signed-1")
    (first,) = (await receiver.wait_for(1))[:1]
    envelope = Webhook(SECRET).verify(first.body, first.headers)
    assert envelope["specversion"] == "1.0"
    assert envelope["type"] == "voice_call.state_changed"
    assert envelope["subject"] == voice_call_id
    assert envelope["data"]["change"] == "created"
    assert first.headers["Content-Type"] == "application/cloudevents+json"
    assert first.headers["webhook-id"] == f"cb_{subscription_id}_{envelope['data']['id']}"


async def test_events_of_each_call_arrive_in_order_under_concurrency(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe, database_url: str
) -> None:
    """Eight calls updated concurrently: every event arrives once, each call's in their id order."""
    await subscribe(receiver.url, events=EVERY_TIMELINE_TYPE)
    after = (await event_ids(database_url))[-1:] or [0]
    await asyncio.gather(*(make_call(client, auth(), f"order-{n}", updates=4) for n in range(8)))
    expected = await event_ids_by_call(database_url, after[0])
    delivered = await receiver.wait_for(sum(map(len, expected.values())))
    assert by_call(delivered) == expected


async def test_two_calls_are_delivered_concurrently_each_in_order(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe, database_url: str
) -> None:
    """With a receiver taking 0.2 s per request, two calls' events are in flight together, each call's in order."""
    await subscribe(receiver.url, events=EVERY_TIMELINE_TYPE)
    after = (await event_ids(database_url))[-1:] or [0]
    receiver.delay = 0.2
    await asyncio.gather(*(make_call(client, auth(), f"lanes-{n}", updates=3) for n in range(2)))
    expected = await event_ids_by_call(database_url, after[0])
    delivered = await receiver.wait_for(sum(map(len, expected.values())))
    assert by_call(delivered) == expected
    assert receiver.most_in_flight >= 2


async def test_receiver_down_for_a_while_catches_up_in_order(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe, database_url: str
) -> None:
    """Events made while the receiver answers 503 all arrive, once each and in order per call, once it is back."""
    await subscribe(receiver.url, events=EVERY_TIMELINE_TYPE)
    after = (await event_ids(database_url))[-1:] or [0]
    receiver.status = 503
    await asyncio.gather(*(make_call(client, auth(), f"outage-{n}", updates=2) for n in range(4)))
    await asyncio.sleep(0.5)
    assert receiver.attempts and not receiver.delivered
    receiver.status = 200
    expected = await event_ids_by_call(database_url, after[0])
    delivered = await receiver.wait_for(sum(map(len, expected.values())))
    assert by_call(delivered) == expected


async def test_gone_disables_the_subscription(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe, database_url: str
) -> None:
    """A 410 answer disables the subscription: nothing more is sent to it."""
    subscription_id = await subscribe(receiver.url)
    receiver.status = 410
    await make_call(client, auth(), "gone-1", updates=3)
    deadline = time.monotonic() + 10
    while (await subscription(database_url, subscription_id)).status != "disabled":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert len(receiver.attempts) == 1


async def test_retry_after_is_honoured(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe
) -> None:
    """After a 429 with Retry-After: 1 the next attempt waits at least a second (the base delay is 0.05 s)."""
    await subscribe(receiver.url)
    receiver.answers = [(429, {"Retry-After": "1"})]
    await make_call(client, auth(), "retry-after-1")
    await receiver.wait_for(1)
    refused, accepted = receiver.attempts[:2]
    assert refused.headers["webhook-id"] == accepted.headers["webhook-id"]
    assert accepted.at - refused.at >= 0.95


async def test_slow_endpoint_does_not_delay_another(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, other_receiver: Receiver, subscribe: Subscribe
) -> None:
    """A receiver taking 3 s per request leaves another subscription's deliveries on time."""
    await subscribe(receiver.url)
    await subscribe(other_receiver.url)
    receiver.delay = 3.0
    started = time.monotonic()
    await make_call(client, auth(), "slow-1", updates=4)
    await other_receiver.wait_for(5, within=2.5)
    assert time.monotonic() - started < 2.5
    assert len(receiver.delivered) <= 1


async def test_event_failing_past_the_retry_window_is_dead_lettered(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe, database_url: str, app: object
) -> None:
    """With a 0.3 s window, an event refused throughout is recorded as dead and the next one is delivered."""
    app.state.callbridge.settings.webhook_retry_window_seconds = 0.3  # type: ignore[attr-defined]
    subscription_id = await subscribe(receiver.url)
    receiver.answers = [(500, {})] * 30
    await make_call(client, auth(), "dead-1")
    deadline = time.monotonic() + 10
    while (await subscription(database_url, subscription_id)).dead < 1:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    receiver.answers = []
    await make_call(client, auth(), "dead-2")
    (delivered,) = await receiver.wait_for(1)
    assert delivered.envelope["data"]["vendorCallKey"] == "dead-2"


async def test_each_attempt_is_recorded_with_status_and_latency(
    client: httpx2.AsyncClient, auth: Auth, receiver: Receiver, subscribe: Subscribe, database_url: str
) -> None:
    """A refused then accepted delivery leaves two attempt rows: 503 retrying, then 200 delivered."""
    subscription_id = await subscribe(receiver.url)
    receiver.answers = [(503, {})]
    await make_call(client, auth(), "attempts-1")
    await receiver.wait_for(1)
    await asyncio.sleep(0.3)
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            rows = list(await session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)))
    finally:
        await database.dispose()
    assert [(row.subscription_id, row.status_code, row.outcome) for row in rows] == [
        (subscription_id, 503, "retrying"),
        (subscription_id, 200, "delivered"),
    ]
    assert all(row.latency_ms >= 0 for row in rows)
