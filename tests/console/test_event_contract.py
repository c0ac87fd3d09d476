"""The wire contract of every pushed event type: one lifecycle through the real API produces each of them;
per type, the JSON carries ``type``, ``version``, a monotonic ``id`` and ``voiceCallId`` where it concerns a
call, its own fields, parses back through the ``Event`` union, and is rebuilt identically from storage (what a
resuming console is replayed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, get_args

import httpx2
import pytest
from pydantic import TypeAdapter

from callbridge.events import replay
from callbridge.events.schemas import AnyControl, AnyEvent, Event
from callbridge.kit.state import AppState
from tests.console.test_stream import routed_call, say
from tests.intelligence.conftest import body as intelligence_body
from tests.routing.conftest import ALICE, Console, Telephony
from tests.transcripts.conftest import INBOUND_KEY
from tests.voice_calls.conftest import CreateCall

Auth = Callable[..., dict[str, str]]
CALL = "/telephony/v1/voiceCalls"

# Per type: the fields (by alias) the console relies on, and whether it concerns a call (voiceCallId set).
CONTRACT: dict[str, tuple[set[str], bool]] = {
    "timeline.recorded": ({"kind", "actor", "outcome", "reason", "data", "conversationId"}, True),
    "transcript.accepted": ({"conversationId", "messageId", "sender", "content", "serverReceivedTimestamp"}, True),
    "transcript.replaced": ({"messageId", "content", "entryVersion", "serverReceivedTimestamp"}, True),
    "transcript.dropped": ({"messageId", "sender", "dropReason", "reason"}, True),
    "transcript.redacted": ({"conversationId", "messageId", "content"}, True),
    "intelligence.signal": ({"service", "signalType", "value", "participant", "persisted"}, True),
    "intelligence.post_call_stored": ({"service", "received", "stored", "duplicates", "types"}, True),
    "voice_call.sentiment_updated": ({"agentSentimentScore", "customerSentimentScore", "changes"}, True),
    "voice_call.state_changed": ({"change", "vendorCallKey", "isActiveCall", "isOnHold", "isRecordingPaused"}, True),
    "routing.offered": ({"offerId", "psrId", "userId", "username", "queueName", "expiresAt"}, True),
    "routing.offer_ended": ({"offerId", "userId", "outcome", "reason"}, True),
    "routing.work_closed": ({"workId", "userId", "status", "reason"}, True),
    "agent.presence_changed": ({"orgId", "userId", "username", "presence", "capacityUsed", "capacity"}, False),
    "queue.backlog": ({"orgId", "queueId", "queueApiName", "waiting", "offered", "oldestWaitingSince"}, False),
}


def test_the_contract_covers_every_event_type() -> None:
    """A new event type fails here until it has its contract."""
    types = {model.model_fields["type"].default for model in get_args(AnyEvent)}
    assert types == set(CONTRACT)


def test_control_messages_have_type_and_id() -> None:
    for model in get_args(AnyControl):
        assert {"type", "id", "version"} <= set(model.model_fields)


async def lifecycle(
    state: AppState,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
) -> list[AnyEvent]:
    """Every event of a call's life, as the broker published them."""
    queue = state.broker.subscribe(10_000)
    alice = await console.available(ALICE)
    call = await routed_call(create_call, telephony)
    await console.take(alice)
    await say(client, auth, "m1", "partial")
    await say(client, auth, "m1", "partial, final")
    await say(client, auth, "card", "My card is 4111")
    redact = {"conversationEntriesUpdates": [{"identifier": "card", "messageText": "My card is [REDACTED]"}]}
    entries = f"/services/data/v52.0/connect/conversation/{INBOUND_KEY}/entries"
    assert (await client.patch(entries, json=redact, headers=auth())).status_code == 200
    realtime = intelligence_body("contact_lens_realtime_category")
    assert (
        await client.post(f"{CALL}/{INBOUND_KEY}/realtimeConversationEvents", json=realtime, headers=auth())
    ).is_success
    await console.http.post(f"/console/v1/calls/{call}/hold", headers=alice)
    await say(client, auth, "m2", "dropped on hold")
    (work,) = (await console.http.get("/console/v1/work", headers=alice)).json()
    assert (await console.http.post(f"/console/v1/work/{work['id']}/close", headers=alice)).status_code == 200
    update = {"isActiveCall": False, "endTime": "2026-11-24T18:20:00Z"}
    assert (await client.patch(f"{CALL}/{INBOUND_KEY}", json=update, headers=auth())).status_code == 200
    post_call = intelligence_body("post_call_analysis_batch")
    assert (
        await client.post(f"{CALL}/{INBOUND_KEY}/postConversationEvents", json=post_call, headers=auth())
    ).is_success
    await asyncio.sleep(0)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    state.broker.unsubscribe(queue)
    return events


@pytest.fixture
async def published(
    state: AppState,
    console: Console,
    telephony: Telephony,
    create_call: CreateCall,
    client: httpx2.AsyncClient,
    auth: Auth,
) -> list[AnyEvent]:
    return await lifecycle(state, console, telephony, create_call, client, auth)


def wire_part(event: AnyEvent) -> AnyEvent:
    """The event without its fields that never go on the wire (``exclude=True``, e.g. the webhook's call record)."""
    hidden = {name: field.default for name, field in type(event).model_fields.items() if field.exclude}
    return event.model_copy(update=hidden)


@pytest.mark.parametrize("event_type", sorted(CONTRACT))
async def test_event_contract(event_type: str, published: list[AnyEvent], state: AppState) -> None:
    fields, about_a_call = CONTRACT[event_type]
    ids = [event.id for event in published]
    assert ids == sorted(ids) and len(ids) == len(set(ids)), "ids are monotonic and unique"
    of_type = [event for event in published if event.type == event_type]
    assert of_type, f"the lifecycle produced no {event_type}"
    async with state.database.read_session() as session:
        stored = {event.id: event for event in await replay.events_by_ids(session, [e.id for e in of_type])}
    for event in of_type:
        wire: dict[str, Any] = event.model_dump(mode="json", by_alias=True)
        assert wire["type"] == event_type and wire["version"] == 1 and isinstance(wire["id"], int)
        assert fields <= set(wire), f"{event_type} lacks {fields - set(wire)}"
        assert (wire["voiceCallId"] is not None) == about_a_call
        assert TypeAdapter(Event).validate_python(wire) == wire_part(event)
        assert not {name for name, field in type(event).model_fields.items() if field.exclude} & set(wire)
        rebuilt = stored[event.id].model_dump(mode="json", by_alias=True)
        if event_type in {"transcript.accepted", "transcript.replaced"}:
            rebuilt.pop("content"), wire.pop("content")  # replay carries the text as it is now
        assert rebuilt == wire
