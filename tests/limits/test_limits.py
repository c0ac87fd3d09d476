"""CALLBRIDGE_LIMITS over real HTTP on one process: new VoiceCalls and utterances per second per org."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

from callbridge.app import create_app
from callbridge.auth.certificates import KeyPair
from callbridge.client import AsyncCallbridgeClient, TokenSigner
from callbridge.client.schemas import VoiceCallCreate
from callbridge.config import LimitsProfile, Settings
from callbridge.kit.clock import FrozenClock
from callbridge.kit.db import Database
from callbridge.limits.stores import MemoryStore, PostgresStore, RedisStore, store_for
from tests.conftest import CALL_CENTER, ORG_ID, TokenFactory
from tests.limits.conftest import URL, Serve, create_body, entries_of
from tests.ops.conftest import scrape, value
from tests.transcripts.conftest import INBOUND_KEY, message

Auth = Callable[..., dict[str, str]]
RESOURCE_EXHAUSTED = "Error: io.grpc.StatusRuntimeException: RESOURCE_EXHAUSTED: Rate limit exceeded"


async def test_limits_are_off_by_default(serve: Serve, auth: Auth) -> None:
    """Without CALLBRIDGE_LIMITS, 60 creates in the same second are all taken."""
    async with serve() as http:
        statuses = [(await http.post(URL, json=create_body(f"off-{i}"), headers=auth())).status_code for i in range(60)]
    assert statuses == [200] * 60


async def test_fifty_first_create_in_a_second_is_refused_with_retry_after(serve: Serve, auth: Auth) -> None:
    """With the salesforce profile, the 51st create within one second is 429 RATE_LIMIT_EXCEEDED with
    Retry-After, and its call is not stored."""
    async with serve(limits="salesforce") as http:
        for i in range(50):
            assert (await http.post(URL, json=create_body(f"call-{i}"), headers=auth())).status_code == 200
        refused = await http.post(URL, json=create_body("call-50"), headers=auth())
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["code"] == "RATE_LIMIT_EXCEEDED"
        assert "50 new VoiceCalls per second" in refused.json()["message"]
        assert (await http.get(f"{URL}/call-50", headers=auth())).status_code == 404


async def test_create_limit_frees_up_in_the_next_second(serve: Serve, auth: Auth, clock: FrozenClock) -> None:
    """Once the second is over, a refused create goes through."""
    async with serve(limits="salesforce", limit_calls_per_second=1) as http:
        assert (await http.post(URL, json=create_body("a"), headers=auth())).status_code == 200
        assert (await http.post(URL, json=create_body("b"), headers=auth())).status_code == 429
        clock.advance(seconds=1)
        assert (await http.post(URL, json=create_body("b"), headers=auth())).status_code == 200


async def test_calls_per_second_setting_overrides_the_figure(serve: Serve, auth: Auth) -> None:
    """CALLBRIDGE_LIMIT_CALLS_PER_SECOND=2: the third create of the second is refused."""
    async with serve(limits="salesforce", limit_calls_per_second=2) as http:
        statuses = [(await http.post(URL, json=create_body(f"k{i}"), headers=auth())).status_code for i in range(3)]
    assert statuses == [200, 200, 429]


async def test_create_limit_holds_on_the_fastapi_path(serve: Serve, auth: Auth) -> None:
    """A create the fast lane leaves to FastAPI (an XML body) is counted and refused alike."""
    xml = (
        "<VoiceCall><callCenterApiName>ConformanceCC</callCenterApiName><vendorCallKey>xml-{n}</vendorCallKey>"
        "<to>+18005550199</to><from>+14155550123</from>"
        "<initiationMethod>Inbound</initiationMethod><startTime>2026-11-24T18:15:55.793Z</startTime>"
        "<participants><participantKey>+14155550123</participantKey><type>END_USER</type></participants>"
        "</VoiceCall>"
    )
    headers = {**auth(), "Content-Type": "application/xml"}
    async with serve(limits="salesforce", limit_calls_per_second=1) as http:
        first = await http.post(URL, content=xml.format(n=1), headers=headers)
        assert first.status_code == 200, first.text
        second = await http.post(URL, content=xml.format(n=2), headers={**auth(), "Content-Type": "application/xml"})
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "1"


async def test_refused_create_leaves_the_token_usable(
    serve: Serve, make_token: TokenFactory, clock: FrozenClock
) -> None:
    """Under the single-use jti policy, a token refused with 429 is still good for the retry (nothing was
    processed, as with a 503)."""
    async with serve(limits="salesforce", limit_calls_per_second=1, jti_policy="single-use") as http:
        first = {"Authorization": f"Bearer {make_token()}"}
        assert (await http.post(URL, json=create_body("a"), headers=first)).status_code == 200
        token = {"Authorization": f"Bearer {make_token()}"}
        assert (await http.post(URL, json=create_body("b"), headers=token)).status_code == 429
        clock.advance(seconds=1)
        retried = await http.post(URL, json=create_body("b"), headers=token)
    assert retried.status_code == 200, retried.text


async def test_invalid_create_is_not_counted(serve: Serve, auth: Auth) -> None:
    """A create refused as invalid (400) takes nothing from the second's budget."""
    async with serve(limits="salesforce", limit_calls_per_second=1) as http:
        bad = await http.post(URL, json={**create_body("bad"), "initiationMethod": "Sideways"}, headers=auth())
        assert bad.status_code == 400
        assert (await http.post(URL, json=create_body("good"), headers=auth())).status_code == 200


async def test_single_transcript_over_the_utterance_budget_is_refused(serve: Serve, auth: Auth) -> None:
    """At 1 utterance/s (30 per 30 s window) the 31st single POST is 429 with Retry-After to the window's end,
    and its message is not stored."""
    async with serve(limits="salesforce", limit_utterances_per_second=1) as http:
        assert (await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())).status_code == 200
        for i in range(30):
            taken = await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message(f"m{i}"), headers=auth())
            assert taken.status_code == 200, taken.text
        refused = await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message("m30"), headers=auth())
        stored = await http.get(f"{URL}/{INBOUND_KEY}/messages", params={"limit": 100}, headers=auth())
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "20"
    assert refused.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert "m30" not in [entry["messageId"] for entry in stored.json()["entries"]]


async def test_utterance_budget_frees_up_in_the_next_window(serve: Serve, auth: Auth, clock: FrozenClock) -> None:
    """30 s later the window is new and the refused message goes through."""
    async with serve(limits="salesforce", limit_utterances_per_second=1) as http:
        await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())
        for i in range(30):
            await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message(f"m{i}"), headers=auth())
        assert (await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message("x"), headers=auth())).status_code == 429
        clock.advance(seconds=20)
        assert (await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message("x"), headers=auth())).status_code == 200


async def test_bulk_entries_over_the_budget_are_resource_exhausted(serve: Serve, auth: Auth) -> None:
    """With 2 utterances left, entries of 3, 2 and 1 messages: the first and last are refused per entry with
    Salesforce's RESOURCE_EXHAUSTED message naming their ids (not stored), the middle one is stored."""
    async with serve(limits="salesforce", limit_utterances_per_second=1) as http:
        await http.post(URL, json=create_body(INBOUND_KEY), headers=auth())
        for i in range(28):
            await http.post(f"{URL}/{INBOUND_KEY}/messages", json=message(f"m{i}"), headers=auth())
        bulk = {
            "entries": [
                {"vendorCallKey": INBOUND_KEY, "messages": [message("a1"), message("a2"), message("a3")]},
                {"vendorCallKey": INBOUND_KEY, "messages": [message("b1"), message("b2")]},
                {"vendorCallKey": INBOUND_KEY, "messages": [message("c1")]},
            ]
        }
        response = await http.post(f"{URL}/messages", json=bulk, headers=auth())
        stored = await http.get(f"{URL}/{INBOUND_KEY}/messages", params={"limit": 100}, headers=auth())
    assert response.status_code == 207, response.text
    entries = entries_of(response.json())
    assert entries[0]["message"] == f"Error Processing Transcript with Id(s) [a1, a2, a3]. {RESOURCE_EXHAUSTED}"
    assert entries[2]["message"] == f"Error Processing Transcript with Id(s) [c1]. {RESOURCE_EXHAUSTED}"
    assert "RESOURCE_EXHAUSTED" not in entries[1]["message"]
    ids = {entry["messageId"] for entry in stored.json()["entries"]}
    assert {"b1", "b2"} <= ids
    assert not ids & {"a1", "a2", "a3", "c1"}


async def test_refusals_are_counted_by_limit(serve: Serve, auth: Auth) -> None:
    """callbridge_limit_refusals_total{limit="new_voice_calls"} counts each 429 of a create."""
    async with serve(limits="salesforce", limit_calls_per_second=1) as http:
        before = value(await scrape(http), "callbridge_limit_refusals_total", limit="new_voice_calls")
        await http.post(URL, json=create_body("a"), headers=auth())
        await http.post(URL, json=create_body("b"), headers=auth())
        await http.post(URL, json=create_body("c"), headers=auth())
        after = value(await scrape(http), "callbridge_limit_refusals_total", limit="new_voice_calls")
    assert after - before == 2


def test_store_follows_the_deployment(tmp_path: Path) -> None:
    """One process on SQLite counts in memory; a Redis broker means Redis; a PostgreSQL database, PostgreSQL."""
    sqlite = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    postgres = Database("postgresql+asyncpg://postgres@127.0.0.1:5432/nowhere")
    assert isinstance(store_for(None, sqlite), MemoryStore)
    assert isinstance(store_for("memory://", postgres), PostgresStore)
    assert isinstance(store_for("postgresql://postgres@127.0.0.1/x", postgres), PostgresStore)
    assert isinstance(store_for("redis://127.0.0.1:6379/0", sqlite), RedisStore)


async def test_python_client_waits_retry_after_then_succeeds(
    settings: Settings, call_centers: Any, key_pair: KeyPair, clock: FrozenClock
) -> None:
    """callbridge.client meets a 429 on its second create, waits the Retry-After the server gave (1 s), and
    its resend is taken."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds=seconds)

    limited = settings.model_copy(update={"limits": LimitsProfile.salesforce, "limit_calls_per_second": 1})
    app = create_app(limited, clock=clock)
    async with app.router.lifespan_context(app):
        signer = TokenSigner(key_pair.private_key_pem, ORG_ID, CALL_CENTER)
        transport = httpx2.ASGITransport(app=app)
        async with AsyncCallbridgeClient("http://callbridge.test", signer, transport=transport, sleep=sleep) as http:
            for key in ("first", "second"):
                await http.create_voice_call(VoiceCallCreate(vendor_call_key=key, to="+18005550199", from_="+1415"))
    assert waits == [1.0]
