"""Webhook fixtures: a real HTTP receiver (aiohttp on port 0) whose answers a test steers, fast delivery
timings, and subscriptions applied through the contact-centre file as an operator would."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from aiohttp import web
from sqlalchemy import select

from callbridge.config import Settings
from callbridge.contact_center.service import apply_file
from callbridge.kit.db import Database
from callbridge.models import TimelineEntry, WebhookSubscription
from tests.conftest import BROKER_URL, ORG_ID, PAYLOADS

SECRET_ENV = "TEST_WEBHOOK_SECRET"
SECRET = "whsec_" + base64.b64encode(b"callbridge-webhook-test-secret!!").decode()


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def envelope(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    @property
    def event_id(self) -> int:
        return int(self.envelope["data"]["id"])


@dataclass
class Receiver:
    """Answers ``status`` (with ``headers``) after ``delay`` seconds; ``answers`` are used first, one per request."""

    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    attempts: list[Received] = field(default_factory=list)
    url: str = ""
    in_flight: int = 0
    most_in_flight: int = 0

    @property
    def delivered(self) -> list[Received]:
        return [attempt for attempt in self.attempts if 200 <= attempt.status < 300]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        status, headers = self.answers.pop(0) if self.answers else (self.status, self.headers)
        self.attempts.append(Received(time.monotonic(), dict(request.headers), body, status))
        return web.Response(status=status, headers=headers)

    async def wait_for(self, count: int, within: float = 15.0) -> list[Received]:
        """The first ``count`` deliveries (2xx), waiting for them."""
        deadline = time.monotonic() + within
        while len(self.delivered) < count:
            assert time.monotonic() < deadline, f"{len(self.delivered)} of {count} delivered"
            await asyncio.sleep(0.02)
        return self.delivered


async def start_receiver(receiver: Receiver) -> web.AppRunner:
    application = web.Application()
    application.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    receiver.url = f"http://{host}:{port}/hooks"
    return runner


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    runner = await start_receiver(found)
    yield found
    await runner.cleanup()


@pytest.fixture
async def other_receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    runner = await start_receiver(found)
    yield found
    await runner.cleanup()


WEBHOOK_TIMINGS: dict[str, Any] = {
    "webhook_poll_seconds": 0.05,
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_max_seconds": 0.2,
    "webhook_lease_seconds": 2.0,
    "webhook_timeout_seconds": 5.0,
}


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, broker_url=BROKER_URL, **WEBHOOK_TIMINGS)


def webhook_yaml(*hooks: dict[str, Any]) -> str:
    lines = ["version: 1", "orgs:", f"  - id: {ORG_ID}", "    webhooks:"]
    for hook in hooks:
        lines.append(f"      - url: {hook['url']}")
        lines.append(f"        events: {json.dumps(hook.get('events', ['*']))}")
        lines.append(f"        secret_env: {hook.get('secret_env', SECRET_ENV)}")
        if "call_centers" in hook:
            lines.append(f"        call_centers: {json.dumps(hook['call_centers'])}")
    return "\n".join(lines) + "\n"


Subscribe = Callable[..., Awaitable[int]]


@pytest.fixture
def subscribe(database_url: str, tmp_path: Path, call_centers: dict[str, Any]) -> Subscribe:
    """Apply a contact-centre file declaring one webhook; returns the subscription's id."""

    async def apply(url: str, **hook: Any) -> int:
        path = tmp_path / f"webhooks-{time.monotonic_ns()}.yaml"
        path.write_text(webhook_yaml({"url": url, **hook}))
        database = Database(database_url)
        try:
            await apply_file(database, path)
            async with database.read_session() as session:
                found = await session.scalar(select(WebhookSubscription.id).where(WebhookSubscription.url == url))
        finally:
            await database.dispose()
        assert found is not None
        return found

    return apply


async def subscription(database_url: str, subscription_id: int) -> WebhookSubscription:
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            found = await session.get(WebhookSubscription, subscription_id)
            assert found is not None
            return found
    finally:
        await database.dispose()


async def event_ids(database_url: str, after: int = 0) -> list[int]:
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            query = select(TimelineEntry.id).where(TimelineEntry.id > after).order_by(TimelineEntry.id)
            return list(await session.scalars(query))
    finally:
        await database.dispose()


async def event_ids_by_call(database_url: str, after: int = 0) -> dict[str, list[int]]:
    """The ids of the events after ``after``, per call, in order."""
    database = Database(database_url)
    try:
        async with database.read_session() as session:
            query = (
                select(TimelineEntry.voice_call_id, TimelineEntry.id)
                .where(TimelineEntry.id > after, TimelineEntry.voice_call_id.is_not(None))
                .order_by(TimelineEntry.id)
            )
            found: dict[str, list[int]] = {}
            for voice_call_id, event_id in await session.execute(query):
                found.setdefault(voice_call_id, []).append(event_id)
            return found
    finally:
        await database.dispose()


def by_call(received: list[Received]) -> dict[str, list[int]]:
    """The event ids a receiver got, per call (the envelope's subject), in the order they arrived."""
    found: dict[str, list[int]] = {}
    for one in received:
        found.setdefault(one.envelope["subject"], []).append(one.event_id)
    return found


def create_body(key: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((PAYLOADS / "lambda_create_inbound.json").read_text())
    return body | {"vendorCallKey": key}


async def make_call(client: httpx2.AsyncClient, headers: dict[str, str], key: str, updates: int = 0) -> str:
    """Create a call and update it ``updates`` times, one request after another (each one event)."""
    response = await client.post("/telephony/v1/voiceCalls", json=create_body(key), headers=headers)
    assert response.status_code == 200, response.text
    voice_call_id: str = response.json()["voiceCallId"]
    for n in range(updates):
        body = {"callAttributes": json.dumps({"Step__c": str(n)})}
        answer = await client.patch(f"/telephony/v1/voiceCalls/{voice_call_id}", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    return voice_call_id
