"""A contact centre applied from YAML (queues, agents with passwords, flows, phone channels), an app on a
frozen clock with the routing timer off (tests tick it), and console helpers over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from callbridge.app import create_app
from callbridge.auth.certificates import KeyPair
from callbridge.config import Settings
from callbridge.console.passwords import hash_password
from callbridge.contact_center import apply_file
from callbridge.kit.clock import FrozenClock
from callbridge.kit.db import Database
from callbridge.kit.state import AppState
from callbridge.models import CallCenter
from callbridge.routing import timers
from tests.voice_calls.conftest import create_call, payload, read_call

__all__ = ["create_call", "payload", "read_call"]

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD, n=2**4)  # cheap for tests: verification reads the cost from the hash
ALICE, BRUNO, CHEN, DANA, SAM = (
    "alice@example.com",
    "bruno@example.com",
    "chen@example.com",
    "dana@example.com",
    "sam@example.com",
)
ALICE_ID, BRUNO_ID, CHEN_ID, DANA_ID, SAM_ID = (
    "005XX0000000001AAA",
    "005XX0000000002AAA",
    "005XX0000000003AAA",
    "005XX0000000004AAA",
    "005XX0000000005AAA",
)
SUPPORT_ARN = "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-support"
BASIC_ARN = "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-basic"
ALICE_ARN = "arn:aws:connect:us-east-1:111122223333:instance/i1/agent/a-alice"

CONFIG = f"""\
version: 1
orgs:
  - id: 00DXX000000CONFAAA
    call_centers:
      - api_name: ConformanceCC
        certificates: [cert.pem]
        phone_channels:
          - dialed_number: "+14155550100"
            flow: Inbound_Support
            fallback_queue: Support
          - dialed_number: "+14155550300"
            flow: Never_Matches
            fallback_queue: Sales
        callback: {{flow: Callbacks, fallback_queue: Support}}
        voicemail: {{fallback_queue: Voicemail}}
    queues:
      - {{api_name: Support, external_id: "{SUPPORT_ARN}"}}
      - {{api_name: Spanish, external_id: "arn:aws:connect:us-east-1:111122223333:instance/i1/queue/q-spanish"}}
      - {{api_name: Sales}}
      - {{api_name: SCV_BASIC_QUEUE, external_id: "{BASIC_ARN}"}}
      - {{api_name: Voicemail}}
    agents:
      - username: {ALICE}
        user_id: {ALICE_ID}
        external_id: "{ALICE_ARN}"
        queues: [Support, SCV_BASIC_QUEUE, Voicemail]
        skills: {{english: 5, billing: 7}}
        password_hash: "{PASSWORD_HASH}"
      - username: {BRUNO}
        user_id: {BRUNO_ID}
        queues: [Support, Spanish]
        skills: {{english: 3, spanish: 9, billing: 4}}
        password_hash: "{PASSWORD_HASH}"
      - username: {CHEN}
        user_id: {CHEN_ID}
        queues: [Sales]
        skills: {{sales: 8}}
        password_hash: "{PASSWORD_HASH}"
      - username: {DANA}
        user_id: {DANA_ID}
        queues: [Support]
        skills: {{billing: 9}}
        capacity: 200
        password_hash: "{PASSWORD_HASH}"
      - username: {SAM}
        user_id: {SAM_ID}
        role: supervisor
        password_hash: "{PASSWORD_HASH}"
    flows:
      - api_name: Inbound_Support
        rules:
          - when: {{input.language: es}}
            route: {{queue: Spanish, priority: 0}}
          - when: {{attribute.Department__c: Billing}}
            route: {{skills: {{billing: 5}}, preferred_agent: {BRUNO}, push_timeout: 15}}
          - when: {{call.from: {{prefix: "+1212"}}}}
            route: {{agent: {CHEN}, push_timeout: 0}}
          - route: {{queue: Support}}
      - api_name: Never_Matches
        rules:
          - when: {{input.never: {{exists: true}}}}
            route: {{queue: Support}}
      - api_name: SCV_Basic_Routing_Flow
        rules:
          - when: {{input.IncomingCallPhoneNumber: {{prefix: "+1415"}}}}
            route: {{queue: SCV_BASIC_QUEUE}}
      - api_name: Transfers
        rules:
          - when: {{input.transferTarget: Sales}}
            route: {{queue: Sales}}
          - route: {{queue: Support}}
      - api_name: Billing_Skills
        rules:
          - route: {{skills: {{billing: 5}}}}
      - api_name: Callbacks
        rules:
          - route: {{queue: Support, priority: 2}}
"""


async def apply_config(database_url: str, directory: Path, key_pair: KeyPair, text: str = CONFIG) -> None:
    (directory / "cert.pem").write_text(key_pair.certificate_pem)
    path = directory / "cc.yaml"
    path.write_text(text)
    database = Database(database_url)
    try:
        await apply_file(database, path)
    finally:
        await database.dispose()


@pytest.fixture
async def contact_center(
    database_url: str, call_centers: dict[str, CallCenter], tmp_path: Path, key_pair: KeyPair
) -> None:
    await apply_config(database_url, tmp_path, key_pair)


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """The Lambdas' headers, presenting one token again and again (as Salesforce's token rotator does, and
    the default jti policy allows): signing a fresh token per request dominated these tests' time."""
    minted: dict[str, str] = {}

    def headers(**token_claims: Any) -> dict[str, str]:
        token = make_token(**token_claims) if token_claims else minted.setdefault("token", make_token())
        return {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Telephony-Provider-Name": "amazon-connect",
        }

    return headers


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def app(settings: Settings, contact_center: None, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    """The app on a frozen clock, with the routing timer off: tests call ``tick``."""
    application = create_app(settings.model_copy(update={"routing_tick_seconds": 0}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def second_app(settings: Settings, app: FastAPI, clock: FrozenClock) -> AsyncIterator[httpx2.AsyncClient]:
    """Another app (its own Database, as another process would have) on the same database."""
    other = create_app(settings.model_copy(update={"routing_tick_seconds": 0}), clock=clock)
    async with other.router.lifespan_context(other):
        transport = httpx2.ASGITransport(app=other)
        async with httpx2.AsyncClient(transport=transport, base_url="http://second.test") as http:
            yield http


@pytest.fixture
def state(app: FastAPI) -> AppState:
    routing_state: AppState = app.state.callbridge
    return routing_state


@pytest.fixture
def tick(state: AppState) -> Callable[[], Awaitable[timers.Tick]]:
    return lambda: timers.tick(state)


@dataclass
class Console:
    """The agent console API over HTTP."""

    http: httpx2.AsyncClient

    async def sign_in(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = await self.http.post("/console/v1/session", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    async def available(self, username: str) -> dict[str, str]:
        """Sign in and go Available; the session headers."""
        headers = await self.sign_in(username)
        await self.presence(headers, "Available")
        return headers

    async def presence(self, headers: dict[str, str], status: str) -> dict[str, Any]:
        response = await self.http.put("/console/v1/presence", json={"status": status}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def offers(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        response = await self.http.get("/console/v1/offers", headers=headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    async def accept(self, headers: dict[str, str], offer_id: str) -> httpx2.Response:
        return await self.http.post(f"/console/v1/offers/{offer_id}/accept", headers=headers)

    async def decline(self, headers: dict[str, str], offer_id: str) -> httpx2.Response:
        return await self.http.post(f"/console/v1/offers/{offer_id}/decline", headers=headers)

    async def take(self, headers: dict[str, str]) -> dict[str, Any]:
        """Accept the agent's only offer; the accept body."""
        (offer,) = await self.offers(headers)
        response = await self.accept(headers, offer["id"])
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def console(client: httpx2.AsyncClient) -> Console:
    return Console(client)


@dataclass
class Telephony:
    """The routing endpoints as the telephony clients call them."""

    http: httpx2.AsyncClient
    auth: Callable[..., dict[str, str]]

    async def omni_flow(self, call: str, body: Any, **headers: str) -> httpx2.Response:
        return await self.http.patch(f"/telephony/v1/voiceCalls/{call}/omniFlow", json=body, headers=self.auth())

    async def route(self, call: str, body: Any) -> httpx2.Response:
        return await self.http.patch(f"/telephony/v1/voiceCalls/route/{call}", json=body, headers=self.auth())

    async def clear_routing(self, call: str) -> None:
        response = await self.http.patch(f"/telephony/v1/voiceCalls/{call}/clearRouting", headers=self.auth())
        assert response.status_code == 200, response.text

    async def routing(self, call: str, **claims: Any) -> dict[str, Any]:
        response = await self.http.get(f"/telephony/v1/voiceCalls/{call}/routing", headers=self.auth(**claims))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def timeline(self, call: str, **claims: Any) -> list[dict[str, Any]]:
        response = await self.http.get(f"/telephony/v1/voiceCalls/{call}/timeline", headers=self.auth(**claims))
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

    async def kinds(self, call: str, prefix: str = "routing.") -> list[str]:
        return [entry["kind"] for entry in await self.timeline(call) if entry["kind"].startswith(prefix)]


@pytest.fixture
def telephony(client: httpx2.AsyncClient, auth: Callable[..., dict[str, str]]) -> Telephony:
    return Telephony(client, auth)
