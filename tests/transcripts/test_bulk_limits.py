"""Bulk size (decisions.md "Transcripts"): 100 x 100 by default, anything over Salesforce's documented 5 x 5
noted in the calls' timelines and counted on /metrics; the `salesforce` limits profile refuses it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx2
import pytest

from callbridge.app import create_app
from callbridge.config import LimitsProfile, Settings
from callbridge.transcripts.service import bulk_limits
from tests.ops.conftest import eventually, scrape, value
from tests.transcripts.conftest import INBOUND_KEY, URL, Post, body_of, message
from tests.voice_calls.conftest import CreateCall

OTHER_KEY = "c0ffee00-1111-4222-8333-444455556666"
NOTE = "transcript.bulk_over_salesforce_limits"
OVER = "callbridge_transcript_bulk_over_salesforce_limits_total"


@asynccontextmanager
async def client_with(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """A second app on the same database with other settings."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://callbridge.test") as http:
            yield http


def entry(key: str, count: int, tag: str = "m") -> dict[str, object]:
    return {"vendorCallKey": key, "messages": [message(f"{tag}{n}") for n in range(count)]}


def test_defaults_take_what_contact_lens_sends() -> None:
    """Out of the box, up to 100 entries of up to 100 messages, with no limits profile."""
    fields = Settings.model_fields
    assert (fields["transcript_bulk_max_entries"].default, fields["transcript_bulk_max_messages"].default) == (100, 100)
    assert fields["limits"].default is LimitsProfile.off


def test_the_salesforce_profile_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CALLBRIDGE_LIMITS=salesforce caps bulk at 5 x 5, even with the size settings raised."""
    monkeypatch.setenv("CALLBRIDGE_LIMITS", "salesforce")
    monkeypatch.setenv("CALLBRIDGE_TRANSCRIPT_BULK_MAX_MESSAGES", "50")
    assert bulk_limits(Settings()) == (5, 5)


async def test_seven_messages_per_entry_are_taken_and_noted(
    post_bulk: Post, create_call: CreateCall, stored: Callable, timeline: Callable
) -> None:
    """The Contact Lens body of 7 messages in one entry: 202, all stored, and the call's timeline says once that
    production Salesforce could refuse such a request."""
    call_id = await create_call()
    response = await post_bulk(body_of("contact_lens_bulk_seven"))
    assert (response.status_code, response.json()) == (202, {"result": "Accepted"})
    assert [e["messageId"] for e in await stored(call_id)] == [f"c{i}" for i in range(1, 8)]
    (note,) = [e for e in await timeline(call_id) if e["kind"] == NOTE]
    assert "production could refuse it" in note["reason"] and "at most 5 entries of 5 messages" in note["reason"]
    assert note["data"] == {"entries": 1, "largestEntry": 7, "salesforceLimits": {"entries": 5, "messagesPerEntry": 5}}


async def test_six_entries_note_every_call_of_the_request(
    post_bulk: Post, create_call: CreateCall, timeline: Callable
) -> None:
    """Six entries over two calls: each call's timeline has one note (the whole request is over the limit)."""
    first = await create_call()
    second = await create_call(vendorCallKey=OTHER_KEY)
    entries = [entry(INBOUND_KEY if n % 2 else OTHER_KEY, 1, f"e{n}-") for n in range(6)]
    assert (await post_bulk({"entries": entries})).status_code == 202
    for call_id in (first, second):
        notes = [e for e in await timeline(call_id) if e["kind"] == NOTE]
        assert [n["data"]["entries"] for n in notes] == [6]


async def test_five_by_five_is_not_noted(post_bulk: Post, create_call: CreateCall, timeline: Callable) -> None:
    """A request within Salesforce's documented 5 x 5 leaves no note."""
    call_id = await create_call()
    entries = [entry(INBOUND_KEY, 5, f"e{n}-") for n in range(5)]
    assert (await post_bulk({"entries": entries})).status_code == 202
    assert [e for e in await timeline(call_id) if e["kind"] == NOTE] == []


async def test_over_the_documented_limits_is_counted_on_metrics(
    client: httpx2.AsyncClient, post_bulk: Post, create_call: CreateCall
) -> None:
    """/metrics counts requests taken over 5 x 5 by what they exceeded: entries, messages or both."""
    await create_call()
    before = await scrape(client)
    assert (await post_bulk({"entries": [entry(INBOUND_KEY, 7)]})).status_code == 202
    assert (await post_bulk({"entries": [entry(INBOUND_KEY, 1, f"e{n}-") for n in range(6)]})).status_code == 202
    assert (await post_bulk({"entries": [entry(INBOUND_KEY, 6, f"b{n}-") for n in range(6)]})).status_code == 202
    assert (await post_bulk({"entries": [entry(INBOUND_KEY, 5, "ok")]})).status_code == 202

    async def counted() -> bool:
        after = await scrape(client)
        return all(
            value(after, OVER, exceeded=label) - value(before, OVER, exceeded=label) == 1
            for label in ("entries", "messages", "both")
        )

    await eventually(counted)


async def test_over_the_default_limits_is_refused(post_bulk: Post, create_call: CreateCall, stored: Callable) -> None:
    """101 messages in one entry: 400 BULK_LIMIT_EXCEEDED naming the entry; nothing is stored."""
    call_id = await create_call()
    response = await post_bulk({"entries": [entry(INBOUND_KEY, 101)]})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BULK_LIMIT_EXCEEDED"
    assert body["errors"] == ["entries[0].messages: has 101 messages; at most 100 per entry are allowed"]
    assert await stored(call_id) == []


async def test_salesforce_profile_refuses_seven_messages(
    settings: Settings, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """With CALLBRIDGE_LIMITS=salesforce, seven messages in one entry are 400 BULK_LIMIT_EXCEEDED naming the
    entry's path, and nothing is stored."""
    call_id = await create_call()
    async with client_with(settings.model_copy(update={"limits": LimitsProfile.salesforce})) as http:
        response = await http.post(f"{URL}/messages", json=body_of("contact_lens_bulk_seven"), headers=auth())
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BULK_LIMIT_EXCEEDED" and "salesforce" in body["message"]
    assert body["errors"] == ["entries[0].messages: has 7 messages; at most 5 per entry are allowed"]
    assert await stored(call_id) == []


async def test_salesforce_profile_refuses_six_entries(
    settings: Settings, auth: Callable, create_call: CreateCall
) -> None:
    """With CALLBRIDGE_LIMITS=salesforce, six entries are 400 BULK_LIMIT_EXCEEDED naming `entries`."""
    await create_call()
    entries = [entry(INBOUND_KEY, 1, f"e{n}-") for n in range(6)]
    async with client_with(settings.model_copy(update={"limits": LimitsProfile.salesforce})) as http:
        response = await http.post(f"{URL}/messages", json={"entries": entries}, headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["entries: has 6 entries; at most 5 are allowed"]


async def test_salesforce_profile_takes_five_by_five(
    settings: Settings, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """With CALLBRIDGE_LIMITS=salesforce, exactly 5 entries of 5 messages are 202."""
    call_id = await create_call()
    entries = [entry(INBOUND_KEY, 5, f"e{n}-") for n in range(5)]
    async with client_with(settings.model_copy(update={"limits": LimitsProfile.salesforce})) as http:
        response = await http.post(f"{URL}/messages", json={"entries": entries}, headers=auth())
    assert (response.status_code, response.json()) == (202, {"result": "Accepted"})
    assert len(await stored(call_id)) == 25


async def test_message_limit_is_configurable(
    settings: Settings, auth: Callable, create_call: CreateCall, stored: Callable
) -> None:
    """CALLBRIDGE_TRANSCRIPT_BULK_MAX_MESSAGES lowered to 6: the seven-message body is refused, six are taken."""
    call_id = await create_call()
    lowered = settings.model_copy(update={"transcript_bulk_max_messages": 6})
    async with client_with(lowered) as http:
        refused = await http.post(f"{URL}/messages", json=body_of("contact_lens_bulk_seven"), headers=auth())
        taken = await http.post(f"{URL}/messages", json={"entries": [entry(INBOUND_KEY, 6)]}, headers=auth())
    assert refused.status_code == 400
    assert refused.json()["errors"] == ["entries[0].messages: has 7 messages; at most 6 per entry are allowed"]
    assert taken.status_code == 202
    assert len(await stored(call_id)) == 6


async def test_entry_limit_is_configurable(settings: Settings, auth: Callable, create_call: CreateCall) -> None:
    """CALLBRIDGE_TRANSCRIPT_BULK_MAX_ENTRIES lowered to 2: three entries are 400 BULK_LIMIT_EXCEEDED."""
    await create_call()
    lowered = settings.model_copy(update={"transcript_bulk_max_entries": 2})
    async with client_with(lowered) as http:
        entries = [entry(INBOUND_KEY, 1, f"e{n}-") for n in range(3)]
        response = await http.post(f"{URL}/messages", json={"entries": entries}, headers=auth())
    assert response.status_code == 400
    assert response.json()["errors"] == ["entries: has 3 entries; at most 2 are allowed"]
