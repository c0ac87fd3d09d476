"""Transcript events on the broker: typed, published after the commit, in order, with the timeline id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pydantic import TypeAdapter

from callbridge.events.schemas import (
    AnyEvent,
    Event,
    TimelineRecorded,
    TranscriptAccepted,
    TranscriptDropped,
    TranscriptReplaced,
    VoiceCallStateChanged,
)
from callbridge.kit.state import AppState
from tests.transcripts.conftest import INBOUND_KEY, Post, message
from tests.voice_calls.conftest import CreateCall


def drain(queue: asyncio.Queue[AnyEvent]) -> list[AnyEvent]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


async def test_accepted_replaced_and_dropped_are_published_in_order(
    app_state_of: AppState,
    post_message: Post,
    create_call: CreateCall,
    timeline: Callable,
    set_call_state: Callable,
) -> None:
    """Each decision is published as its typed event, in commit order, with the id of its timeline entry."""
    call_id = await create_call()
    queue = app_state_of.broker.subscribe()
    await post_message(INBOUND_KEY, message("e1", content="partial"))
    await post_message(INBOUND_KEY, message("e1", content="partial result, final"))
    await set_call_state(call_id, on_hold=True)
    await post_message(INBOUND_KEY, message("e2"))
    events = [e for e in drain(queue) if e.type.startswith("transcript.")]
    accepted, replaced, dropped = events
    assert isinstance(accepted, TranscriptAccepted) and accepted.content == "partial"
    assert isinstance(replaced, TranscriptReplaced) and replaced.entry_version == 2
    assert replaced.server_received_timestamp == accepted.server_received_timestamp
    assert isinstance(dropped, TranscriptDropped) and dropped.drop_reason == "on_hold"
    assert {e.voice_call_id for e in events} == {call_id}
    records = [r for r in await timeline(call_id) if r["kind"].startswith("transcript.")]
    assert [e.id for e in events] == [r["id"] for r in records]
    assert accepted.sender.participantId == f"{INBOUND_KEY}END_USER"


async def test_emitted_payload_matches_the_wire_contract(
    app_state_of: AppState, post_message: Post, create_call: CreateCall
) -> None:
    """A published transcript event, serialised with its aliases, parses back through the Event union."""
    await create_call()
    queue = app_state_of.broker.subscribe()
    await post_message(INBOUND_KEY, message("wire"))
    (event,) = [e for e in drain(queue) if isinstance(e, TranscriptAccepted)]
    wire = event.model_dump(mode="json", by_alias=True)
    assert wire["type"] == "transcript.accepted"
    assert {"id", "voiceCallId", "conversationId", "messageId", "sender", "content", "serverReceivedTimestamp"} <= set(
        wire
    )
    assert TypeAdapter(Event).validate_python(wire) == event


async def test_creating_a_call_publishes_its_state(app_state_of: AppState, create_call: CreateCall) -> None:
    """Creating a call publishes voice_call.state_changed (created, active, neither on hold nor paused)."""
    queue = app_state_of.broker.subscribe()
    call_id = await create_call()
    (event,) = drain(queue)
    assert isinstance(event, VoiceCallStateChanged) and event.voice_call_id == call_id
    assert (event.change, event.is_active_call, event.is_on_hold, event.is_recording_paused) == (
        "created",
        True,
        False,
        False,
    )


async def test_unchanged_resend_is_published_as_a_timeline_event(
    app_state_of: AppState, post_message: Post, create_call: CreateCall
) -> None:
    """An identical resend is published as timeline.recorded of kind transcript.unchanged."""
    await create_call()
    await post_message(INBOUND_KEY, message("u"))
    queue = app_state_of.broker.subscribe()
    await post_message(INBOUND_KEY, message("u"))
    (event,) = drain(queue)
    assert isinstance(event, TimelineRecorded) and event.kind == "transcript.unchanged"
