"""GET /voiceCalls/{id}/conversationEvents: the conversation data store, read back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from tests.intelligence.conftest import CONNECTED_MS, POST_CALL, REALTIME, Post, body, realtime, signal
from tests.transcripts.conftest import INBOUND_KEY, URL
from tests.voice_calls.conftest import CreateCall


@pytest.fixture
async def call_with_events(create_call: CreateCall, send: Post, close_call: Callable) -> str:
    """The inbound call with two persisted real-time signals (one during the call, one after the batch's start)
    and, once closed, the Lambda's post-call batch; its VoiceCall id."""
    call_id = await create_call()
    events = [
        signal(value="Greeting", startTime=CONNECTED_MS - 5_000),
        signal(value="Escalation", startTime=CONNECTED_MS + 12_000),
    ]
    assert (await send(INBOUND_KEY, REALTIME, realtime(*events, persist=True))).status_code == 202
    await close_call(INBOUND_KEY)
    assert (await send(INBOUND_KEY, POST_CALL, body("post_call_analysis_batch"))).status_code == 202
    return call_id


async def get(client: httpx2.AsyncClient, auth: Callable, call: str, **params: Any) -> httpx2.Response:
    return await client.get(f"{URL}/{call}/conversationEvents", params=params, headers=auth())


async def test_lists_every_stored_event_in_start_time_order(call_with_events: str, stored_events: Callable) -> None:
    """Post-call and persisted real-time events come together, ordered by startTime."""
    events = await stored_events(call_with_events)
    assert [(e["source"], e["value"]) for e in events] == [
        ("realtime", "Greeting"),
        ("post_call", "0.8"),
        ("post_call", "-1.6"),
        ("post_call", "-1000"),
        ("post_call", "1000"),
        ("realtime", "Escalation"),
        ("post_call", "0"),
    ]
    starts = [e["startTime"] for e in events]
    assert starts == sorted(starts)


async def test_filters_by_type(call_with_events: str, stored_events: Callable) -> None:
    """``type`` keeps only the named signal types (comma-separated, any case)."""
    events = await stored_events(
        call_with_events, type="intelligencesignal__category,IntelligenceSignal__OverallSentimentScore"
    )
    assert [e["value"] for e in events] == ["Greeting", "0.8", "-1.6", "Escalation"]


async def test_unknown_type_filter_is_400(call_with_events: str, client: httpx2.AsyncClient, auth: Callable) -> None:
    """A type that is no signal type is refused, naming it."""
    response = await get(client, auth, call_with_events, type="IntelligenceSignal__Mood")
    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("type: 'IntelligenceSignal__Mood' is not one of")


async def test_pages_follow_the_cursor_without_repeats(
    call_with_events: str, client: httpx2.AsyncClient, auth: Callable, stored_events: Callable
) -> None:
    """Pages of 2 through ``next`` give every event exactly once, in the same order as one page."""
    paged, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = (await get(client, auth, call_with_events, **params)).json()
        assert len(page["events"]) <= 2
        paged += [e["id"] for e in page["events"]]
        after = page["next"]
        if after is None:
            break
    assert paged == [e["id"] for e in await stored_events(call_with_events)]


async def test_bad_cursor_is_400(client: httpx2.AsyncClient, auth: Callable) -> None:
    """A cursor this server did not give out is 400 INVALID_CURSOR."""
    response = await get(client, auth, INBOUND_KEY, after="yesterday")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_CURSOR"


async def test_voice_call_id_and_key_read_the_same(
    call_with_events: str, client: httpx2.AsyncClient, auth: Callable
) -> None:
    """The call is named by its VoiceCall id or its vendorCallKey alike."""
    by_id = (await get(client, auth, call_with_events)).json()
    by_key = (await get(client, auth, INBOUND_KEY)).json()
    assert by_id == by_key
    assert by_id["voiceCallId"] == call_with_events and by_id["conversationIdentifier"] == INBOUND_KEY


async def test_call_without_events_reads_empty(
    create_call: CreateCall, client: httpx2.AsyncClient, auth: Callable
) -> None:
    """A call with nothing stored answers an empty page."""
    call_id = await create_call()
    page = (await get(client, auth, call_id)).json()
    assert (page["events"], page["next"]) == ([], None)


async def test_unknown_call_is_404(client: httpx2.AsyncClient, auth: Callable) -> None:
    """An id or key of no call is 404 VOICE_CALL_NOT_FOUND."""
    response = await get(client, auth, "no-such-contact")
    assert response.status_code == 404
    assert response.json()["code"] == "VOICE_CALL_NOT_FOUND"


async def test_other_call_center_gets_404(
    create_call: CreateCall, send: Post, client: httpx2.AsyncClient, other_token: Callable
) -> None:
    """Another call center cannot read this call's events: 404, as if the call did not exist."""
    call_id = await create_call()
    await send(INBOUND_KEY, REALTIME, body("contact_lens_realtime_category", persist=True))
    headers = {"Authorization": f"Bearer {other_token()}"}
    response = await client.get(f"{URL}/{call_id}/conversationEvents", headers=headers)
    assert response.status_code == 404
